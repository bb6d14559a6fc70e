import Foundation

/// Counts the GGUF headers parsed by the task that sets it, so that a test can check that loading a
/// model parses its file once (``ModelSource`` is opened once and shared by the weights, the
/// tokenizer and the chat template).
///
/// A task-local rather than a global: tests run in parallel, and each counts only its own parses.
package final class GGUFParseCounter: @unchecked Sendable {
    // @unchecked: `parses` is read and written under `lock` only.
    /// The counter of the current task, if it set one with `$current.withValue(_:operation:)`.
    @TaskLocal package static var current: GGUFParseCounter?

    private let lock = NSLock()
    private var parses = 0

    package init() {}

    /// The GGUF headers parsed so far.
    package var count: Int { lock.withLock { parses } }

    func increment() { lock.withLock { parses += 1 } }
}
