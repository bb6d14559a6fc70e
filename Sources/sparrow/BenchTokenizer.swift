import ArgumentParser
import Foundation
import GenerateAPI
import ModelFormats
import Tensor
import Tokenizer

/// `sparrow bench-tokenizer`: how fast a vocabulary loads and encodes. A benchmark, not a test: it
/// prints the numbers and the targets they are judged against, and fails only when the model cannot be read.
///
/// Times are wall-clock, and the process's CPU time beside them (all threads: loading parses merge
/// lines on two): on a busy machine the CPU time is what the code costs, the wall time what it got.
struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Time loading a GGUF vocabulary and encoding mixed English, code and CJK text.",
        discussion: """
            Encodes a deterministic text of --megabytes MiB and one ten times as large (no BOS, no \
            special-token parsing) and prints MB/s and the time ratio, which stays near 10 when \
            encoding is linear. Each round encodes the large text's ten 1/10 slices one by one and \
            then the large text once; times and the ratio are medians over rounds. Build with `-c release` for meaningful numbers.
            """
    )

    @Option(help: "A GGUF file with a tokenizer (tokenizer.ggml.*); a vocabulary-only file is enough.")
    var model: String

    @Option(help: "Size of the smaller text in MiB (the larger is ten times this).")
    var megabytes: Double = 1

    @Option(help: "Rounds: loads of the vocabulary (the fastest is reported), and encoding rounds (medians reported).")
    var repeats: Int = 3

    func validate() throws {
        guard megabytes > 0, megabytes <= 100 else { throw ValidationError("--megabytes must be in (0, 100]") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        // Loading: parse the GGUF metadata, then build and validate the tokenizer from it; the
        // fastest of `repeats` loads.
        var parse = Stopwatch.Lap(wall: .infinity, cpu: .infinity), build = parse
        var loaded: Tokenizer?
        for _ in 0 ..< repeats {
            var watch = Stopwatch()
            let metadata = try GGUFFile(path: model).metadata
            let p = watch.lap()
            loaded = try Tokenizer(gguf: metadata)
            let b = watch.lap()
            if p.wall + b.wall < parse.wall + build.wall { (parse, build) = (p, b) }
        }
        guard let tokenizer = loaded else { return }
        print("model:       \(model)")
        print("vocabulary:  \(tokenizer.vocabularySize) tokens, \(tokenizer.kind)")
        print(String(format: "load:        %.1f ms wall (GGUF metadata %.1f + tokenizer %.1f), %.1f ms CPU (%.1f + %.1f)",
                     (parse.wall + build.wall) * 1e3, parse.wall * 1e3, build.wall * 1e3,
                     (parse.cpu + build.cpu) * 1e3, parse.cpu * 1e3, build.cpu * 1e3))

        let smallBytes = Int(megabytes * 1_048_576)
        let large = BenchText.make(bytes: smallBytes * 10)
        // The small texts are the large one's ten consecutive slices (cut at character boundaries),
        // so a round encodes the same text both ways, and each small encode meets text that is not
        // already in the caches (the same 1 MiB ten times would be).
        let slices = BenchText.slices(of: large, count: 10)
        // Equal work per round: the ten slices, then the large text once, so that both
        // halves of a round last about as long and meet the same load on a shared machine (timing one
        // short small run against one long large run favours the short one: it is more likely to fit
        // between other processes' bursts). The ratio is taken per round, then the median of rounds.
        var smallTimes: [Stopwatch.Lap] = [], largeTimes: [Stopwatch.Lap] = []
        var smallIDs = 0, largeIDs = 0
        for _ in 0 ..< repeats {
            var total = Stopwatch.Lap(wall: 0, cpu: 0)
            for slice in slices {
                let (s, count) = time(tokenizer, slice)
                total.wall += s.wall / 10
                total.cpu += s.cpu / 10
                smallIDs += count
            }
            let (l, count) = time(tokenizer, large)
            smallTimes.append(total)
            largeTimes.append(l)
            largeIDs = count
        }
        let smallTime = Stopwatch.Lap(wall: median(smallTimes.map(\.wall)), cpu: median(smallTimes.map(\.cpu)))
        let largeTime = Stopwatch.Lap(wall: median(largeTimes.map(\.wall)), cpu: median(largeTimes.map(\.cpu)))
        let wallRatio = median(zip(largeTimes, smallTimes).map { $0.wall / $1.wall })
        let cpuRatio = median(zip(largeTimes, smallTimes).map { $0.cpu / $1.cpu })
        report(label: String(format: "%g MiB", megabytes), bytes: large.utf8.count / 10, time: smallTime,
               ids: smallIDs / (10 * repeats))
        report(label: String(format: "%g MiB", megabytes * 10), bytes: large.utf8.count, time: largeTime, ids: largeIDs)
        print(String(format: "ratio:       %.2f wall, %.2f CPU (median of %d rounds; per round: %@)",
                     wallRatio, cpuRatio, repeats,
                     zip(largeTimes, smallTimes).map { String(format: "%.2f", $0.wall / $1.wall) }.joined(separator: " ")))
        // The linearity bar is judged on CPU time: it counts the work this process did, while the
        // wall ratio also counts whatever else the shared cores ran during each half of a round.
        print(String(format: "bars:        1 MiB under 0.5 s: %@ (%.3f s); ratio under 11 (CPU): %@ (wall: %@); load under 150 ms: %@ (%.0f ms)",
                     megabytes <= 1 && smallTime.wall < 0.5 ? "yes" : megabytes <= 1 ? "no" : "n/a", smallTime.wall,
                     cpuRatio < 11 ? "yes" : "no", wallRatio < 11 ? "yes" : "no",
                     (parse.wall + build.wall) < 0.15 ? "yes" : "no", (parse.wall + build.wall) * 1e3))
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// One encoding's time, and the number of ids.
    private func time(_ tokenizer: Tokenizer, _ text: String) -> (Stopwatch.Lap, Int) {
        var watch = Stopwatch()
        let ids = tokenizer.encode(text)
        return (watch.lap(), ids.count)
    }

    private func report(label: String, bytes: Int, time: Stopwatch.Lap, ids: Int) {
        let mb = Double(bytes) / 1_048_576
        print(String(format: "encode %@: %.3f s wall (%.3f s CPU), %.2f MiB/s, %d ids (%.2f bytes/id)",
                     label, time.wall, time.cpu, mb / time.wall, ids, Double(bytes) / Double(max(ids, 1))))
    }

}

/// A deterministic mix of English prose, source code and CJK text, roughly a third each, with words
/// shuffled by a fixed linear congruential generator so that the text does not simply repeat.
enum BenchText {
    static let english = """
        The quick brown fox jumps over the lazy dog. It's a well-known sentence that uses every letter \
        of the alphabet, and typists have practised with it since the 1880s. Meanwhile, researchers \
        measured 3,141 samples across 12 sites; they'd expected fewer than 2.5% outliers, but we'll \
        see. "Don't panic," she said — then laughed, because the results (all 42 of them) were fine.
        """.split(separator: " ").map(String.init)
    static let code = """
        func encode(_ text: String) -> [Int] {
            var ids: [Int] = []
            for (i, piece) in pieces(of: text).enumerated() where !piece.isEmpty {
                ids.append(contentsOf: merge(piece, rank: ranks[i % 7] ?? 0x1F))
            }
            return ids  // TODO: cache
        }
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        if (x >= 10 && y != nullptr) { printf("%d\\n", x * y); }
        """.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    static let cjk = Array(
        "自然语言处理是人工智能的一个重要领域，它研究如何让计算机理解和生成人类语言。" +
        "東京は日本の首都であり、多くの人々が毎日電車で通勤しています。" +
        "한국어 문장도 조금 섞어 둡니다. 機械学習モデルは大量のデータから規則を学びます。"
    ).map(String.init)

    /// `text` cut into `count` consecutive pieces of about equal size, at character boundaries.
    static func slices(of text: String, count: Int) -> [String] {
        let bytes = Array(text.utf8)
        var cuts = [0]
        for k in 1 ..< count {
            var cut = bytes.count * k / count
            while cut < bytes.count, bytes[cut] & 0xC0 == 0x80 { cut += 1 }
            cuts.append(max(cut, cuts[cuts.count - 1]))
        }
        cuts.append(bytes.count)
        return (0 ..< count).map { String(decoding: bytes[cuts[$0] ..< cuts[$0 + 1]], as: UTF8.self) }
    }

    static func make(bytes target: Int) -> String {
        var out = ""
        out.reserveCapacity(target + 64)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var size = 0
        while size < target {
            // A paragraph of each kind in turn, each a random run of its words.
            for kind in 0 ..< 3 where size < target {
                let words = kind == 0 ? english : kind == 1 ? code : cjk
                let count = 20 + next(40)
                var paragraph = ""
                for w in 0 ..< count {
                    if kind != 2, w > 0 { paragraph += " " }
                    paragraph += words[next(words.count)]
                }
                paragraph += "\n\n"
                out += paragraph
                size += paragraph.utf8.count
            }
        }
        // Cut at a character boundary at or below the target size: back off while the first byte
        // after the cut continues a character.
        let bytes = Array(out.utf8)
        var cut = min(target, bytes.count)
        while cut > 0, cut < bytes.count, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: bytes[..<cut], as: UTF8.self)
    }
}
