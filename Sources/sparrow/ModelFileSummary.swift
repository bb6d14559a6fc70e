import Foundation
import JSON
import ModelFormats
import Tensor

/// What `sparrow inspect` shows of a model file, whichever format it is in.
struct ModelFileSummary {
    struct TensorRow {
        var name: String
        var type: String
        var shape: [Int]
        var bytes: Int
        var offset: Int
    }

    var format: String
    var metadata: [(String, JSON)]
    var metadataText: [(String, String)]
    var tensors: [TensorRow]

    static func open(path: String) throws -> ModelFileSummary {
        // Sniff the magic rather than trusting the extension.
        if let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 4) {
            try? handle.close()
            if head == Data("GGUF".utf8) { return try gguf(GGUFFile(path: path)) }
        }
        if path.hasSuffix(".gguf") { return try gguf(GGUFFile(path: path)) }
        return try safetensors(SafetensorsCheckpoint(path: path))
    }

    static func safetensors(_ c: SafetensorsCheckpoint) -> ModelFileSummary {
        var meta: [(String, JSON)] = []
        var text: [(String, String)] = []
        func add(_ k: String, _ v: String) {
            meta.append((k, .string(v)))
            text.append((k, preview(.string(v))))
        }
        for (k, v) in c.indexMetadata.sorted(by: { $0.key < $1.key }) { add(k, v) }
        for shard in c.shards {
            for (k, v) in shard.metadata.sorted(by: { $0.key < $1.key }) where c.indexMetadata[k] == nil { add(k, v) }
        }
        let rows = c.tensorNames.compactMap { name -> TensorRow? in
            guard let info = c.info(name) else { return nil }
            return TensorRow(name: name, type: info.dtype.rawValue, shape: info.shape.dims,
                             bytes: info.byteCount, offset: info.fileRange.lowerBound)
        }
        return ModelFileSummary(format: "safetensors", metadata: meta, metadataText: text, tensors: rows)
    }

    static func gguf(_ f: GGUFFile) -> ModelFileSummary {
        var meta: [(String, JSON)] = [("GGUF.version", .int(Int(f.version)))]
        var text: [(String, String)] = [("GGUF.version", "\(f.version)")]
        for (k, v) in f.metadata.entries {
            meta.append((k, json(v)))
            text.append((k, "\(v.typeDescription) = \(preview(v))"))
        }
        let rows = f.tensors.map {
            TensorRow(name: $0.name, type: $0.type.name, shape: $0.shape.dims, bytes: $0.byteCount, offset: $0.fileOffset)
        }
        return ModelFileSummary(format: "gguf", metadata: meta, metadataText: text, tensors: rows)
    }

    var json: JSON {
        .object([
            ("format", .string(format)),
            ("metadata", .object(metadata)),
            ("tensors", .array(tensors.map { t in
                .object([
                    ("name", .string(t.name)), ("type", .string(t.type)),
                    ("shape", .array(t.shape.map { .int($0) })), ("bytes", .int(t.bytes)), ("offset", .int(t.offset)),
                ])
            })),
        ])
    }

    var text: String {
        var out = "format: \(format)\nmetadata (\(metadataText.count)):\n"
        for (k, v) in metadataText { out += "  \(k): \(v)\n" }
        let total = tensors.reduce(0) { $0 + $1.bytes }
        out += "tensors (\(tensors.count), \(total) bytes):\n"
        let width = tensors.map(\.name.count).max() ?? 0
        for t in tensors {
            let pad = String(repeating: " ", count: width - t.name.count)
            out += "  \(t.name)\(pad)  \(t.type.padding(toLength: 5, withPad: " ", startingAt: 0))  \(t.shape)  \(t.bytes)\n"
        }
        return out
    }

    static func json(_ v: GGUFValue) -> JSON {
        switch v {
        case let .uint64(u): return .uint(u)
        case let .float32(f): return .float(f)
        case let .float64(d): return .double(d)
        case let .bool(b): return .bool(b)
        case let .string(s): return .string(s)
        case let .array(a): return json(a)
        default: return v.intValue.map(JSON.int) ?? .null
        }
    }

    static func json(_ a: GGUFArray) -> JSON {
        if case let .array(inner) = a { return .array(inner.map(json)) }
        return .array(a.elements.map(json))
    }

    /// A one-line rendering; long arrays show their first elements and their length.
    static func preview(_ v: GGUFValue) -> String {
        switch v {
        case let .array(a):
            let head = (0..<min(a.count, 6)).compactMap { a.element($0) }.map(preview)
            return "[" + head.joined(separator: ", ") + (a.count > 6 ? ", … (\(a.count) elements)" : "") + "]"
        case let .string(s):
            let short = s.count > 120 ? String(s.prefix(120)) + "…" : s
            var out = ""
            JSONValue.writeString(short, to: &out)
            return out
        default:
            return json(v).serialized
        }
    }
}
