import Foundation

/// Wall-clock bounds in the tests are set for a plain debug build. Sanitized builds run several
/// times slower, so `scripts/sanitize.sh` sets `SPARROW_TIME_SCALE` and every bound is multiplied by it.
public enum TimeScale {
    /// `SPARROW_TIME_SCALE`, or 1.
    public static let factor: Double = ProcessInfo.processInfo.environment["SPARROW_TIME_SCALE"].flatMap(Double.init) ?? 1

    /// `seconds`, scaled.
    public static func seconds(_ seconds: Double) -> Duration { .milliseconds(Int(seconds * factor * 1000)) }

    /// `milliseconds`, scaled.
    public static func milliseconds(_ ms: Double) -> Double { ms * factor }
}
