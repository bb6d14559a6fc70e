import FuzzDriver
import Foundation
import GenerateAPI

/// One input: a request body for `POST /v1/generate`. Decodes it as the server does, validates it
/// against the default limits (everything checked before a model is needed), and encodes it back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafeRawPointer?, _ size: Int) -> CInt {
    let body = Data(UnsafeRawBufferPointer(start: data, count: size))
    guard let request = try? JSONDecoder().decode(GenerateRequest.self, from: body) else { return 0 }
    var sink = 0
    sink &+= request.maxTokens ?? 0  // the sampling fields, read through the request
    if (try? request.validate()) != nil { sink &+= 1 }
    // A request that decoded must encode; `try?` because the encoder rejects non-finite doubles,
    // which JSON cannot carry in (so this should not fire, but it is not what this harness checks).
    sink &+= (try? JSONEncoder().encode(request))?.count ?? 0
    blackHole(sink)
    return 0
}

/// Keeps the work above from being optimised away.
@inline(never) func blackHole(_ x: Int) { if x == -0x5eed { print(x) } }

/// The entry point SwiftPM's link names (`main` is an alias of `<Module>_main`): libFuzzer's driver
/// over the same function as `LLVMFuzzerTestOneInput`.
@_cdecl("FuzzRequest_main")
public func fuzzRequestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    sparrow_fuzz_main(argc, argv) { data, size in fuzzRequest(UnsafeRawPointer(data), size) }
}
