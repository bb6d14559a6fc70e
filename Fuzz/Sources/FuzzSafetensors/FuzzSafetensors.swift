import FuzzDriver
import ModelFormats
import Tensor

/// One input: the bytes of a `.safetensors` file, parsed by the production reader (the code that
/// reads mapped files), then every tensor viewed as the model loader views it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: size))
    guard let file = try? SafetensorsFile(mapping: MappedFile(copying: bytes, name: "fuzz.safetensors")) else { return 0 }
    var sink = file.metadata.count
    for info in file.tensors {
        // First and last byte of each range: a range the validation got wrong reads out of bounds.
        if let raw = try? file.rawBytes(info.name), let first = raw.first, let last = raw.last {
            sink &+= Int(first) &+ Int(last)
        }
        if let tensor = try? file.tensor(info.name) { sink &+= tensor.shape.dims.count }
    }
    blackHole(sink)
    return 0
}

/// Keeps the reads above from being optimised away.
@inline(never) func blackHole(_ x: Int) { if x == -0x5eed { print(x) } }

/// The entry point SwiftPM's link names (`main` is an alias of `<Module>_main`): libFuzzer's driver
/// over the same function as `LLVMFuzzerTestOneInput`.
@_cdecl("FuzzSafetensors_main")
public func fuzzSafetensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    sparrow_fuzz_main(argc, argv) { data, size in fuzzSafetensors(UnsafeRawPointer(data), size) }
}
