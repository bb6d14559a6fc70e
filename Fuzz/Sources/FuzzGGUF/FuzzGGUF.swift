import FuzzDriver
import ModelFormats
import Tensor
import Tokenizer

/// One input: the bytes of a GGUF file. Parses it through the production reader (the same code as a
/// mapped file), then does what loading a model does with a file that opens: reads every metadata
/// value, views every tensor, and builds the tokenizer from the metadata. Any error is fine; a
/// trap, an out-of-bounds access or a hang is the bug being looked for.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    guard let file = try? GGUFFile(file: MappedFile(copying: bytes, name: "fuzz.gguf")) else { return 0 }
    var sink = 0
    for (key, value) in file.metadata.entries {
        sink &+= key.utf8.count &+ value.typeDescription.utf8.count
        if case let .array(a) = value { sink &+= a.elements.count &+ (a.intValues?.count ?? 0) }
    }
    for info in file.tensors {
        // The first and last byte of each view: a range the validation got wrong reads out of bounds.
        if let tensor = try? file.tensor(info), let first = tensor.storage.bytes.first, let last = tensor.storage.bytes.last {
            sink &+= Int(first) &+ Int(last)
        }
    }
    if let tokenizer = try? Tokenizer(gguf: file.metadata) {
        let ids = tokenizer.encode("Hello world! <s> 123 \u{00e9}\u{1F600}", addSpecial: true, parseSpecial: true)
        sink &+= ids.count &+ ((try? tokenizer.decode(ids))?.utf8.count ?? 0)
    }
    blackHole(sink)
    return 0
}

/// Keeps the reads above from being optimised away.
@inline(never) func blackHole(_ x: Int) { if x == -0x5eed { print(x) } }

/// The entry point SwiftPM's link names (`main` is an alias of `<Module>_main`): libFuzzer's driver
/// over the same function as `LLVMFuzzerTestOneInput`.
@_cdecl("FuzzGGUF_main")
public func fuzzGGUFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    sparrow_fuzz_main(argc, argv) { data, size in fuzzGGUF(UnsafeRawPointer(data), size) }
}
