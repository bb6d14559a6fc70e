import Foundation

/// Wall-clock and the process's CPU time (every thread's) since the last lap.
package struct Stopwatch {
    package struct Lap {
        package var wall: Double
        package var cpu: Double

        package init(wall: Double, cpu: Double) {
            self.wall = wall
            self.cpu = cpu
        }
    }

    private var wallStart = ContinuousClock.now
    private var cpuStart = Stopwatch.processCPUSeconds()

    package init() {}

    /// Seconds since creation or the previous lap.
    package mutating func lap() -> Lap {
        let now = ContinuousClock.now, cpu = Self.processCPUSeconds()
        let d = now - wallStart
        let lap = Lap(wall: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, cpu: cpu - cpuStart)
        wallStart = now
        cpuStart = cpu
        return lap
    }

    /// The CPU time of every thread of the process so far.
    package static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
