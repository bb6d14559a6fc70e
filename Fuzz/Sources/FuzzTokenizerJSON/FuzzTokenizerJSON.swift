import FuzzDriver
import Tokenizer

/// One input: `tokenizer.json`, optionally followed by a NUL byte and `tokenizer_config.json`
/// (JSON text never contains a raw NUL, so the split is unambiguous). Loads it as
/// `Tokenizer(huggingFaceDirectory:)` would, then encodes and decodes a fixed text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerJSON(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    let json: [UInt8], config: [UInt8]?
    if let nul = bytes.firstIndex(of: 0) {
        json = Array(bytes[..<nul])
        config = Array(bytes[(nul + 1)...])
    } else {
        (json, config) = (bytes, nil)
    }
    guard let tokenizer = try? Tokenizer(huggingFaceJSON: json, config: config) else { return 0 }
    let ids = tokenizer.encode("Hello world! <s> 123 \u{00e9}\u{1F600}\n\t end", addSpecial: true, parseSpecial: true)
    var sink = ids.count &+ ((try? tokenizer.decode(ids, skipSpecial: false))?.utf8.count ?? 0)
    var stream = tokenizer.makeStreamingDecoder(skipSpecial: true)
    for id in ids { sink &+= ((try? stream.append(id)) ?? "").utf8.count }
    sink &+= stream.finish().utf8.count
    blackHole(sink)
    return 0
}

/// Keeps the work above from being optimised away.
@inline(never) func blackHole(_ x: Int) { if x == -0x5eed { print(x) } }

/// The entry point SwiftPM's link names (`main` is an alias of `<Module>_main`): libFuzzer's driver
/// over the same function as `LLVMFuzzerTestOneInput`.
@_cdecl("FuzzTokenizerJSON_main")
public func fuzzTokenizerJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    sparrow_fuzz_main(argc, argv) { data, size in fuzzTokenizerJSON(UnsafeRawPointer(data), size) }
}
