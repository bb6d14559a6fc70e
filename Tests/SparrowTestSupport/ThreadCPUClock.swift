import Foundation

/// The CPU time the calling thread has spent, for bounds on synchronous work. Unlike the wall clock,
/// it does not grow while the thread waits for a core, so a bound on it holds however busy the other
/// suites keep the machine; it still grows with the work, so a hang or a blow-up fails it.
public enum ThreadCPUClock {
    /// The calling thread's CPU time so far.
    public static var now: Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }
}
