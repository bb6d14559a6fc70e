/// A piece of the input after special-token splitting: ordinary text for the model, or one token.
enum Fragment: Equatable {
    case text(Range<String.Index>)
    case token(Int)
}

/// The tokens `encode` splits out of the text before the model sees it (llama.cpp's
/// `cache_special_tokens`: control, user-defined and unknown tokens, longest text first).
struct SpecialTokenTable: Sendable {
    struct Entry: Sendable {
        let id: Int
        let length: Int
        /// Control and unknown tokens are matched only with `parseSpecial`; user-defined ones always
        /// (as Hugging Face's tokenizers do for added tokens).
        let needsParseSpecial: Bool
        let lstrip: Bool
        let rstrip: Bool
    }

    /// In llama.cpp's processing order: longest first, ties by id (llama.cpp's `std::sort` leaves
    /// the order of equal lengths unspecified; any order gives the same result unless two equally
    /// long tokens overlap in the text).
    let entries: [Entry]
    /// A byte trie over the entries' texts, to find every occurrence of every entry in one pass.
    /// Node 0 is the root; `children[node]` maps a byte to a node; `terminal[node]` is the entry index
    /// ending there, or -1.
    private let root: [Int32]
    private let children: [[UInt8: Int32]]
    private let terminal: [Int32]
    /// Whether any entry is matched without `parseSpecial` (skips the scan for most vocabularies).
    let hasAlwaysMatched: Bool

    init(texts: [String], types: [TokenType], rstrip: Set<Int> = [], lstrip: Set<Int> = []) {
        var list: [(entry: Entry, bytes: [UInt8])] = []
        for (id, type) in types.enumerated() where type == .control || type == .userDefined || type == .unknown {
            let bytes = Array(texts[id].utf8)
            // An empty text would match everywhere (`Tokenizer` renames empty texts anyway).
            guard !bytes.isEmpty else { continue }
            list.append((Entry(id: id, length: bytes.count, needsParseSpecial: type != .userDefined,
                               lstrip: lstrip.contains(id), rstrip: rstrip.contains(id)), bytes))
        }
        list.sort { $0.entry.length != $1.entry.length ? $0.entry.length > $1.entry.length : $0.entry.id < $1.entry.id }
        entries = list.map(\.entry)
        hasAlwaysMatched = entries.contains { !$0.needsParseSpecial }

        var root = [Int32](repeating: -1, count: 256)
        var children: [[UInt8: Int32]] = [[:]]
        var terminal: [Int32] = [-1]
        for (index, item) in list.enumerated() {
            var node: Int32 = 0
            for (depth, b) in item.bytes.enumerated() {
                let existing = depth == 0 ? root[Int(b)] : children[Int(node)][b] ?? -1
                if existing >= 0 {
                    node = existing
                } else {
                    let new = Int32(children.count)
                    children.append([:])
                    terminal.append(-1)
                    if depth == 0 { root[Int(b)] = new } else { children[Int(node)][b] = new }
                    node = new
                }
            }
            // Texts are unique, so each terminal is set once.
            terminal[Int(node)] = Int32(index)
        }
        self.root = root
        self.children = children
        self.terminal = terminal
    }

    /// Splits `text` exactly like llama.cpp's `tokenizer_st_partition`: each special token in turn
    /// (longest first) is searched, left to right, in every fragment still made of ordinary text, and
    /// each occurrence becomes a token fragment (with lstrip/rstrip trimming whitespace beside it).
    ///
    /// Instead of rescanning the text once per special token, all occurrences are found in one trie
    /// pass, then replayed per token in llama.cpp's order: an occurrence is taken when none of its
    /// bytes has been claimed yet, which is exactly "it lies inside one remaining text fragment and
    /// after the previous match of the same token". Text fragments are never empty.
    func partition(_ text: String, parseSpecial: Bool) -> [Fragment] {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { return [] }
        guard !entries.isEmpty, parseSpecial || hasAlwaysMatched else { return [.text(text.startIndex ..< text.endIndex)] }
        let bytes = Array(utf8)
        let n = bytes.count

        // Every occurrence of an eligible entry, grouped by entry, positions ascending.
        var occurrences = [[Int]](repeating: [], count: entries.count)
        var found = false
        bytes.withUnsafeBufferPointer { buf in
            for start in 0 ..< n {
                var node = root[Int(buf[start])]
                var i = start + 1
                while node >= 0 {
                    let entryIndex = Int(terminal[Int(node)])
                    if entryIndex >= 0, parseSpecial || !entries[entryIndex].needsParseSpecial {
                        occurrences[entryIndex].append(start)
                        found = true
                    }
                    guard i < n, let next = children[Int(node)][buf[i]] else { break }
                    node = next
                    i += 1
                }
            }
        }
        guard found else { return [.text(text.startIndex ..< text.endIndex)] }

        // claimed[i]: byte i belongs to a token or was stripped. tokenAt: token fragments by start.
        var claimed = [Bool](repeating: false, count: n)
        var tokenAt: [Int: Int] = [:]
        for (entryIndex, positions) in occurrences.enumerated() where !positions.isEmpty {
            let entry = entries[entryIndex]
            for p in positions {
                let end = p + entry.length
                guard !claimed[p ..< end].contains(true) else { continue }
                for i in p ..< end { claimed[i] = true }
                tokenAt[p] = entry.id
                if entry.lstrip {
                    var i = p - 1
                    while i >= 0, !claimed[i], Self.isSpace(bytes[i]) { claimed[i] = true; i -= 1 }
                }
                if entry.rstrip {
                    var i = end
                    while i < n, !claimed[i], Self.isSpace(bytes[i]) { claimed[i] = true; i += 1 }
                }
            }
        }

        // Maximal unclaimed runs are the text fragments; token starts give the token fragments.
        var fragments: [Fragment] = []
        func index(_ offset: Int) -> String.Index { utf8.index(utf8.startIndex, offsetBy: offset) }
        var i = 0
        while i < n {
            if let id = tokenAt[i] {
                fragments.append(.token(id))
                i += 1
            } else if claimed[i] {
                i += 1
            } else {
                let start = i
                while i < n, !claimed[i] { i += 1 }
                fragments.append(.text(index(start) ..< index(i)))
            }
        }
        return fragments
    }

    /// C's `isspace` in the "C" locale, which llama.cpp uses for lstrip/rstrip.
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || (b >= 0x09 && b <= 0x0D)
    }
}
