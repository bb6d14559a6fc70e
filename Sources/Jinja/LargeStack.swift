#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs parsing and rendering on a thread of its own with a known, large stack.
///
/// The interpreter recurses over the template (bounded by `TemplateLimits.maxNestingDepth` and
/// `maxEvaluationDepth`), and how much stack those bounds need depends on the build (debug frames
/// are several times larger) while the caller's thread may have little (Swift concurrency and
/// test-runner threads). A dedicated thread makes the bound safe wherever the caller runs. Only
/// the pages actually touched are committed, so the reservation costs address space, not memory:
/// a debug build touches about 10 KB per level, so the default 2000 levels use ~20 MB at worst and
/// the 8000-level ceiling ~80 MB, well inside 256 MiB.
enum LargeStack {
    static let bytes = 256 << 20

    /// The work and its result, shared with the thread; the caller waits for the thread, so there
    /// is never concurrent access.
    private final class Job: @unchecked Sendable {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }

    static func run<T>(_ body: () throws(TemplateError) -> T) throws(TemplateError) -> T {
        var result: Result<T, TemplateError>?
        withoutActuallyEscaping(body) { escapable in
            let job = Job {
                do throws(TemplateError) { result = .success(try escapable()) } catch { result = .failure(error) }
            }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, bytes)
            let context = Unmanaged.passRetained(job).toOpaque()
            #if canImport(Glibc)
            var thread = pthread_t()
            #else
            var thread: pthread_t?
            #endif
            let started = pthread_create(&thread, &attributes, { raw in
                guard let raw else { return nil }
                Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().work()
                return nil
            }, context)
            if started == 0 {
                #if canImport(Glibc)
                pthread_join(thread, nil)
                #else
                if let thread { pthread_join(thread, nil) }
                #endif
            } else {
                // No thread (resource exhaustion): run here; the depth bounds still hold.
                Unmanaged<Job>.fromOpaque(context).takeRetainedValue().work()
            }
        }
        switch result {
        case let .success(v)?: return v
        case let .failure(e)?: throw e
        case nil: throw .runtime(message: "the render thread did not finish")
        }
    }
}
