// swift-tools-version: 6.0
import PackageDescription

// libFuzzer harnesses for Sparrow's parsers. A separate package, so that the main package's
// `swift build` / `swift test` never see executables without a `main` (libFuzzer supplies it).
// Build and run with scripts/fuzz.sh; the flags it passes (`-sanitize=fuzzer,address
// -parse-as-library`) are what make these link.
let package = Package(
    name: "SparrowFuzz",
    dependencies: [.package(name: "Sparrow", path: "..")],
    targets: [
        // libFuzzer's driver behind SwiftPM's renamed entry point; see FuzzDriver.h.
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzGGUF", dependencies: [
            "FuzzDriver", .product(name: "GenerateAPI", package: "Sparrow"),
        ]),
        .executableTarget(name: "FuzzSafetensors", dependencies: [
            "FuzzDriver", .product(name: "GenerateAPI", package: "Sparrow"),
        ]),
        .executableTarget(name: "FuzzTokenizerJSON", dependencies: ["FuzzDriver", .product(name: "GenerateAPI", package: "Sparrow")]),
        .executableTarget(name: "FuzzTemplate", dependencies: ["FuzzDriver", .product(name: "Jinja", package: "Sparrow")]),
        .executableTarget(name: "FuzzRequest", dependencies: ["FuzzDriver", .product(name: "GenerateAPI", package: "Sparrow")]),
        .executableTarget(name: "FuzzGrammar", dependencies: ["FuzzDriver", .product(name: "GenerateAPI", package: "Sparrow")]),
    ],
    swiftLanguageModes: [.v6]
)
