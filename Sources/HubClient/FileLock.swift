import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock` on a lock file, the same kind Python's `filelock` takes on Unix, so a
/// `huggingface_hub` process and a Sparrow process downloading the same blob wait for each other.
///
/// Each acquisition opens the file anew: `flock` locks belong to an open file description, so two
/// tasks of one process exclude each other just as two processes do. Waiting polls with
/// `LOCK_NB` and `Task.sleep`, so a waiting task never blocks a thread and can be cancelled.
final class FileLock {
    private var descriptor: Int32

    /// Waits until the lock at `path` is held. Creates the file and its folder if needed.
    static func acquire(path: String, pollInterval: Duration) async throws -> FileLock {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw HubError.cache(path: folder, message: error.localizedDescription)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw HubError.cache(path: path, message: errnoText()) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(descriptor)
                throw HubError.cache(path: path, message: String(cString: strerror(code)))
            }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                close(descriptor)
                throw error
            }
        }
        return FileLock(descriptor: descriptor)
    }

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Releases the lock (closing the descriptor releases it). Call it from a `defer`, which also
    /// keeps the lock alive until the scope ends.
    func unlock() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { unlock() }
}

/// An append-only file written with POSIX calls, straight from NIO's buffers.
final class AppendFile {
    private let descriptor: Int32
    let path: String

    /// Opens `path` for appending (creating it), or truncates it first.
    init(path: String, truncate: Bool) throws {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0)
        let descriptor = open(path, flags, 0o644)
        guard descriptor >= 0 else { throw HubError.cache(path: path, message: errnoText()) }
        self.descriptor = descriptor
        self.path = path
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw HubError.cache(path: path, message: errnoText())
            }
            remaining -= written
            base += written
        }
    }

    deinit { close(descriptor) }
}

/// The size of the file at `path`, or nil if it does not exist.
func fileSize(_ path: String) -> Int64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Int64(info.st_size)
}

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif
