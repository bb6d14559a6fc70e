import Foundation

/// Locates the repository's `Fixtures/` folder from this source file, so tests run from any
/// working directory without copying fixtures into a bundle. Every test target shares this one.
public enum FixturePaths {
    /// The `Fixtures/` folder.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/SparrowTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("Fixtures")

    /// A file or folder below `Fixtures/`.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// The text of a file below `Fixtures/`, decoded as UTF-8.
    public static func text(_ relative: String) throws -> String {
        String(decoding: try Data(contentsOf: url(relative)), as: UTF8.self)
    }
}
