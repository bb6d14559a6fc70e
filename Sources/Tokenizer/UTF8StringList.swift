/// Strings stored as UTF-8 bytes back to back, such as a GGUF file's merge list, so that a large
/// list can be handed over and read without building a `String` per element.
public struct UTF8StringList: Sendable {
    /// The elements' bytes, back to back.
    public let bytes: [UInt8]
    /// Element `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    public let offsets: [UInt32]

    /// Wraps `bytes` and `offsets` (`count + 1` of them, ascending, the last at most `bytes.count`);
    /// nil when the offsets do not describe ranges of `bytes`. The bytes should be UTF-8: invalid
    /// sequences are replaced by U+FFFD wherever an element is read as a `String`.
    public init?(bytes: [UInt8], offsets: [UInt32]) {
        guard let first = offsets.first, let last = offsets.last, first == 0, Int(last) <= bytes.count else { return nil }
        for i in offsets.indices.dropFirst() where offsets[i] < offsets[i - 1] { return nil }
        self.bytes = bytes
        self.offsets = offsets
    }

    /// Builds the list from `String`s.
    public init(_ strings: [String]) {
        var bytes: [UInt8] = []
        var offsets: [UInt32] = [0]
        offsets.reserveCapacity(strings.count + 1)
        for s in strings {
            bytes.append(contentsOf: s.utf8)
            offsets.append(UInt32(truncatingIfNeeded: bytes.count))
        }
        self.bytes = bytes
        self.offsets = offsets
    }

    /// The number of elements.
    public var count: Int { offsets.count - 1 }

    /// Element `i` as a `String`.
    public subscript(i: Int) -> String {
        String(decoding: bytes[Int(offsets[i]) ..< Int(offsets[i + 1])], as: UTF8.self)
    }

    /// Every element as a `String`.
    public var strings: [String] { (0 ..< count).map { self[$0] } }

    /// Calls `body` with the whole byte buffer, in which element `i` is at
    /// `offsets[i] ..< offsets[i + 1]`.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer(body)
    }
}

/// A vocabulary's merge lines as their source gave them: `String`s (Hugging Face JSON, tests) or
/// UTF-8 bytes (GGUF metadata, where building 280k `String`s would double the load time).
enum MergeLines: Sendable {
    case strings([String])
    case utf8(UTF8StringList)

    var count: Int {
        switch self {
        case let .strings(s): return s.count
        case let .utf8(list): return list.count
        }
    }

    var strings: [String] {
        switch self {
        case let .strings(s): return s
        case let .utf8(list): return list.strings
        }
    }

    /// Line `i` as a `String` (for error messages).
    subscript(i: Int) -> String {
        switch self {
        case let .strings(s): return s[i]
        case let .utf8(list): return list[i]
        }
    }
}
