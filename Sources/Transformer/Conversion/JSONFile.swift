import Foundation
import JSON

/// The converter reads its JSON files the way Python's `json.load` + `dict.get` does: the last of
/// duplicate keys wins (``JSON/JSONValue/subscript(_:)``), and a key whose value has another type
/// than expected reads as absent.
extension JSONValue {
    /// Reads and parses the JSON file at `path`; nil when there is no file.
    static func file(_ path: String) throws(ModelQuantizationError) -> JSONValue? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .invalidFile(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        do { return try JSONValue(parsing: bytes) } catch {
            throw .invalidFile(path: path, reason: "not valid JSON at byte \(error.offset): \(error.reason)")
        }
    }
}
