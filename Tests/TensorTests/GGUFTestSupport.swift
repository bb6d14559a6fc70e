import Foundation
@testable import ModelFormats
@testable import Tensor

extension GGUFFile {
    /// Writes `bytes` to a temporary file and opens it.
    static func open(bytes: Data) throws(GGUFError) -> GGUFFile {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sparrow-gguf-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        do { try bytes.write(to: url) } catch { throw .file(.cannotOpen(path: url.path, errno: 0)) }
        return try GGUFFile(path: url.path)
    }
}

/// Builds GGUF bytes field by field, so tests can write well-formed files and then break exactly one
/// thing in them.
struct GGUFBuilder {
    var data = Data()

    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); data.append(contentsOf: Array(s.utf8)) }
    mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        data.append(contentsOf: Array("GGUF".utf8)); u32(version); u64(tensors); u64(kvs)
    }
    mutating func kvU32(_ key: String, _ v: UInt32) { string(key); u32(4); u32(v) }
    mutating func kvString(_ key: String, _ v: String) { string(key); u32(8); string(v) }
    mutating func tensorInfo(_ name: String, ne: [UInt64], type: UInt32, offset: UInt64) {
        string(name); u32(UInt32(ne.count)); for d in ne { u64(d) }; u32(type); u64(offset)
    }
    mutating func padTo(_ alignment: Int) {
        while data.count % alignment != 0 { data.append(0) }
    }

    /// A small valid file: one metadata string, one F32 tensor of 8 values and one Q8_0 row of 32.
    static func valid() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.header(tensors: 2, kvs: 1)
        b.kvString("general.architecture", "llama")
        b.tensorInfo("w.f32", ne: [8], type: 0, offset: 0)
        b.tensorInfo("w.q8", ne: [32], type: 8, offset: 32)
        b.padTo(32)
        for i in 0..<8 { b.data.append(contentsOf: withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) }) }
        b.data.append(contentsOf: [UInt8](repeating: 0, count: 34))
        return b
    }
}
