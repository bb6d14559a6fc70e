import Foundation
import ModelFormats
import Tensor
import SparrowTestSupport

/// Fixture paths and helpers shared by the safetensors tests.
enum SafetensorsFixtures {
    static let mixedPath = FixturePaths.url("safetensors/mixed.safetensors").path
    static let shardedDirectory = FixturePaths.url("safetensors/sharded").path

    /// The bit patterns in an `expected/*.f32` file (raw little-endian float32).
    static func expectedBits(_ relative: String) throws -> [UInt32] {
        let data = try Data(contentsOf: FixturePaths.url("safetensors/" + relative))
        return data.withUnsafeBytes { raw in
            (0 ..< raw.count / 4).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
        }
    }

    /// Little-endian integers of type `T` decoded from raw bytes.
    static func integers<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, as _: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        return (0 ..< raw.count / size).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: size * $0, as: T.self)) }
    }
}

/// The bit pattern of every value, so that NaN payloads and signed zeros compare exactly.
func bitPatterns(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// A temporary directory, removed by `remove()`. Each test makes its own, so tests run in parallel.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sparrow-safetensors-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    func remove() { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String { try write(name, Array(text.utf8)) }

    /// Writes a safetensors file: the length field (`declaredLength`, or the header's real length),
    /// the header bytes, then `data`.
    @discardableResult
    func writeSafetensors(
        _ name: String = "t.safetensors", header: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil
    ) throws -> String {
        let n = declaredLength ?? UInt64(header.count)
        let lengthField = (0 ..< 8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) }
        return try write(name, lengthField + header + data)
    }

    @discardableResult
    func writeSafetensors(
        _ name: String = "t.safetensors", header: String, data: [UInt8] = [], declaredLength: UInt64? = nil
    ) throws -> String {
        try writeSafetensors(name, header: Array(header.utf8), data: data, declaredLength: declaredLength)
    }

    /// Copies a fixture file into the directory under `name`.
    @discardableResult
    func copyFixture(_ relative: String, as name: String) throws -> String {
        let p = path(name)
        try FileManager.default.copyItem(at: FixturePaths.url("safetensors/" + relative), to: URL(fileURLWithPath: p))
        return p
    }
}

/// Runs `body` with a fresh scratch directory and removes it afterwards.
func withScratch<T>(_ body: (ScratchDirectory) throws -> T) throws -> T {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    return try body(scratch)
}

/// The error opening `path` as a single file, or `nil` when it opens.
func openError(_ path: String) -> SafetensorsError? {
    do {
        _ = try SafetensorsFile(path: path)
        return nil
    } catch {
        return error
    }
}

/// The error opening `path` as a checkpoint, or `nil` when it opens.
func checkpointError(_ path: String) -> SafetensorsError? {
    do {
        _ = try SafetensorsCheckpoint(path: path)
        return nil
    } catch {
        return error
    }
}
