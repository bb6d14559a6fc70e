// swift-tools-version: 6.0
import PackageDescription

// CPU vector units are enabled on the build command, not here: `unsafeFlags` in a library target
// would make the package unusable as a versioned dependency. See README.md ("Release build").
let package = Package(
    name: "Sparrow",
    platforms: [.macOS(.v14)],
    // What a user needs: the library (GenerateAPI, which re-exports the modules its API is built
    // from), the server (which re-exports HubClient), the template interpreter alone, and the tool.
    products: [
        .library(name: "GenerateAPI", targets: ["GenerateAPI"]),
        .library(name: "SparrowServer", targets: ["SparrowServer"]),
        .library(name: "Jinja", targets: ["Jinja"]),
        .executable(name: "sparrow", targets: ["sparrow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // The library's only native dependency.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The innermost kernel loops, one function per instruction set chosen at run time: Swift has
        // no per-function CPU targets (README, "What is C and why"). Links nothing.
        .target(name: "CKernels"),
        // The one strict JSON reader (RFC 8259) and its value type, for every target that reads JSON
        // text. No dependencies, and only `package` symbols: a product that contains it (Jinja's)
        // builds it without exposing any of it.
        .target(name: "JSON"),
        // The model file formats (GGUF, safetensors: readers and the GGUF writer, no kernels, so that
        // the tokenizer reads GGUF without them) and `ModelSource`, a model path opened once.
        .target(name: "ModelFormats"),
        .target(name: "Tensor", dependencies: ["ModelFormats", "COpenBLAS", "CKernels"]),
        .target(name: "Tokenizer", dependencies: ["ModelFormats", "JSON"]),
        // The Hugging Face converter reads config.json and tokenizer.json, and builds a Tokenizer
        // from the parsed tokenizer.json to name its pre-tokenizer.
        .target(name: "Transformer", dependencies: ["ModelFormats", "Tensor", "CKernels", "Tokenizer", "JSON"]),
        .target(name: "Sampling", dependencies: ["JSON"]),
        // A jinja2-compatible template interpreter; chat templates are its use here, but it needs
        // nothing of Sparrow's but the JSON reader, so that it can be used (and fuzzed) alone.
        .target(name: "Jinja", dependencies: ["JSON"]),
        .target(name: "GenerateAPI", dependencies: ["ModelFormats", "Transformer", "Tokenizer", "Sampling", "Jinja"]),
        // The HTTP server lives in its own target so that GenerateAPI's users don't pull in a server stack.
        .target(
            name: "SparrowServer",
            dependencies: [
                "GenerateAPI", "HubClient", .product(name: "Hummingbird", package: "hummingbird"),
                // OpenAI request bodies are rewritten as JSON values.
                "JSON",
                // A channel handler that notices a client going away while its request waits.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                // The connection guard works on HTTP/1 parts, between NIO's codec and Hummingbird's.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                // API keys are compared as SHA-256 digests, in constant time.
                .product(name: "Crypto", package: "swift-crypto"),
                // Graceful shutdown with a deadline.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // GET /metrics and the request log.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Downloads models by Hub id into huggingface_hub's cache. The inference library does not depend
        // on it; the CLI and the server do.
        .target(
            name: "HubClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "sparrow",
            dependencies: [
                "ModelFormats", "Tensor", "Tokenizer", "Transformer", "Sampling", "Jinja", "GenerateAPI", "SparrowServer",
                "HubClient", "JSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the test targets: where the repository's Fixtures/ are.
        .target(name: "SparrowTestSupport", path: "Tests/SparrowTestSupport"),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "SparrowTestSupport"]),
        // The format readers are tested here too: their tensors are checked through Tensor's views.
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "ModelFormats", "SparrowTestSupport"]),
        // ModelFormats for the GGUF files the tokenizer is read from.
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "ModelFormats", "SparrowTestSupport"]),
        .testTarget(
            name: "TransformerTests",
            dependencies: [
                // JSON: the converter's functions take parsed JSON values.
                "Transformer", "ModelFormats", "Tensor", "CKernels", "JSON", "SparrowTestSupport",
                // The quantizer's outputs are checked against the SHA-256 of llama.cpp's.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling", "SparrowTestSupport"]),
        .testTarget(name: "JinjaTests", dependencies: ["Jinja", "SparrowTestSupport"]),
        .testTarget(name: "GenerateAPITests", dependencies: ["GenerateAPI", "Jinja", "SparrowTestSupport"]),
        .testTarget(
            name: "SparrowServerTests",
            dependencies: [
                "SparrowServer", "GenerateAPI", "HubClient", "SparrowTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HubTests",
            dependencies: [
                // The mock Hub is a plain NIO HTTP/1.1 server: it must send lying lengths and drop
                // connections mid-body, which a framework would not let it do.
                "HubClient", "SparrowServer", "GenerateAPI", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The DocC plugin, for `swift package generate-documentation`, only when building the documentation
// (`SPARROW_DOCS=1`, see README "Documentation"): this toolchain has `docc` but not that command,
// and a package that depends on Sparrow should not resolve a documentation tool.
if Context.environment["SPARROW_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"))
}
