import Foundation
import HubClient
import Synchronization

/// `label  42% 39.1/93.0 MB  5.2 MB/s  ETA 0:10` on one line of stderr, redrawn at most 10 times a
/// second. Downloads (`sparrow pull`) start a line per file; `sparrow quantize` redraws one line.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw = ContinuousClock.now - .seconds(1)
        var started = ContinuousClock.now
        var item: String?
        var drawn = false
    }
    private let state = Mutex(State())

    /// A download's progress: a new line for each file.
    func update(_ progress: DownloadProgress) {
        update(item: progress.path, label: "\(progress.fileIndex + 1)/\(progress.fileCount) \(progress.path)",
               completed: progress.completedBytes, total: progress.totalBytes, resumedFrom: progress.resumedFrom)
    }

    /// Draws `label` with `completed` of `total` bytes, the rate since `item` began (bytes beyond
    /// `resumedFrom`) and the time left. A new `item` ends the line and starts another.
    func update(item: String, label: String, completed: Int64, total: Int64?, resumedFrom: Int64 = 0) {
        state.withLock { state in
            let now = ContinuousClock.now
            if item != state.item {
                if state.drawn { FileHandle.standardError.write(Data("\n".utf8)) }
                state.item = item
                state.started = now
            }
            let done = total.map { completed >= $0 } ?? false
            guard done || now - state.lastDraw >= .milliseconds(100) else { return }
            state.lastDraw = now
            state.drawn = true
            let seconds = max(Double((now - state.started).components.seconds)
                + Double((now - state.started).components.attoseconds) / 1e18, 1e-3)
            let rate = Double(completed - resumedFrom) / seconds
            var line = label + "  "
            if let total, total > 0 {
                let percent = Int(Double(completed) * 100 / Double(total))
                line += "\(percent)% \(Self.megabytes(completed))/\(Self.megabytes(total)) MB"
                line += "  \(Self.megabytes(Int64(rate))) MB/s"
                if rate > 0, !done {
                    let eta = Int(Double(total - completed) / rate)
                    line += "  ETA \(eta / 60):" + String(format: "%02d", eta % 60)
                }
            } else {
                line += "\(Self.megabytes(completed)) MB  \(Self.megabytes(Int64(rate))) MB/s"
            }
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        }
    }

    /// Ends the last line.
    func finish() {
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\n".utf8)) }
            state.drawn = false
        }
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f", Double(bytes) / 1e6) }
}
