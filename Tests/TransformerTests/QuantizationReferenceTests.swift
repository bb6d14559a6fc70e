import Crypto
import Foundation
import ModelFormats
import Testing
import Tensor
@testable import Transformer
import SparrowTestSupport

/// ``QuantizationPlan`` and ``ModelQuantizer`` against `Fixtures/quantize/reference.json`: what
/// llama.cpp's `llama_model_quantize` (llama-cpp-python 0.3.36) wrote for nine models and every
/// ``QuantizationType``, made by `scripts/quantize_llama_cpp.py reference` (Fixtures/quantize/README.md).
///
/// Every case checks the type mix: the tensors' order, dimensions and types. The five cases whose input
/// is a committed file (a K-quant-sized llama in F16, a BF16 llama with rows no block fits and tied
/// embeddings, and the tiny llama, mistral and phi3 of Fixtures/transformer) are also quantized whole,
/// and the output must be llama.cpp's file byte for byte.
@Suite("Quantization reference")
struct QuantizationReferenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let fixture: String?
        let metadata: [(key: String, value: GGUFValue)]
        let tensors: [GGUFTensorPlan]
        let order: [String]
        let dims: [[Int]]
        /// Per type name: the output tensors' types, and for fixture cases the file's size, SHA-256
        /// and each tensor's data SHA-256 (first 16 hex digits).
        let outputs: [String: Output]

        struct Output: Sendable {
            let types: [String]
            let size: Int?
            let sha256: String?
            let tensorSHA256: [String]?
        }

        var testDescription: String { name }
    }

    static let cases: [Case] = loadCases()

    static func loadCases() -> [Case] {
        guard let data = try? Data(contentsOf: FixturePaths.url("quantize/reference.json")),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [[String: Any]]
        else { return [] }
        return cases.compactMap { c -> Case? in
            guard let name = c["name"] as? String, let metadata = c["metadata"] as? [[Any]],
                  let tensors = c["tensors"] as? [[Any]], let order = c["order"] as? [String],
                  let dims = c["dims"] as? [[Int]], let outputs = c["outputs"] as? [String: [String: Any]]
            else { return nil }
            return Case(
                name: name, fixture: c["fixture"] as? String,
                metadata: metadata.compactMap(Self.entry),
                tensors: tensors.compactMap { t in
                    guard t.count == 3, let name = t[0] as? String, let type = (t[1] as? String).flatMap(ElementType.init(name:)),
                          let shape = t[2] as? [Int] else { return nil }
                    return GGUFTensorPlan(name: name, type: type, shape: Shape(shape))
                },
                order: order, dims: dims,
                outputs: outputs.mapValues { o in
                    Case.Output(types: o["types"] as? [String] ?? [], size: o["size"] as? Int, sha256: o["sha256"] as? String,
                                tensorSHA256: o["tensor_sha256"] as? [String])
                })
        }
    }

    /// A `[key, GGUF type id, value]` row of the table as a metadata entry.
    static func entry(_ row: [Any]) -> (key: String, value: GGUFValue)? {
        guard row.count == 3, let key = row[0] as? String, let type = row[1] as? Int else { return nil }
        let number = row[2] as? NSNumber
        let value: GGUFValue? = switch type {
        case 0: number.map { .uint8($0.uint8Value) }
        case 1: number.map { .int8($0.int8Value) }
        case 2: number.map { .uint16($0.uint16Value) }
        case 3: number.map { .int16($0.int16Value) }
        case 4: number.map { .uint32($0.uint32Value) }
        case 5: number.map { .int32($0.int32Value) }
        case 6: number.map { .float32($0.floatValue) }
        case 7: number.map { .bool($0.boolValue) }
        case 8: (row[2] as? String).map { .string($0) }
        case 10: number.map { .uint64($0.uint64Value) }
        case 11: number.map { .int64($0.int64Value) }
        case 12: number.map { .float64($0.doubleValue) }
        default: nil
        }
        return value.map { (key, $0) }
    }

    /// The types the table holds: `quantize_llama_cpp.py`'s twelve, which leave out F32 (a conversion
    /// type, checked against llama.cpp's converter in HuggingFaceConversionTests).
    static let types = QuantizationType.allCases.filter { $0 != .f32 }

    @Test func theTableIsThere() {
        #expect(Self.cases.count == 9)
        #expect(Self.cases.allSatisfy { $0.outputs.count == Self.types.count })
        #expect(Self.cases.filter { $0.fixture != nil }.count == 5)
    }

    @Test(arguments: cases)
    func theMixIsLlamaCpps(_ reference: Case) throws {
        for type in Self.types {
            let plan = try QuantizationPlan(type: type, metadata: reference.metadata, tensors: reference.tensors)
            let expected = try #require(reference.outputs[type.name])
            #expect(plan.tensors.map(\.output.name) == reference.order, "\(type): order")
            #expect(plan.tensors.map(\.output.shape.dims) == reference.dims, "\(type): dimensions")
            let actual = plan.tensors.map(\.output.type.name)
            let wrong = zip(reference.order, zip(actual, expected.types)).filter { $0.1.0 != $0.1.1 }
            #expect(actual.count == expected.types.count && wrong.isEmpty,
                    "\(type): \(wrong.count) tensors differ, e.g. \(wrong.prefix(4).map { "\($0.0): \($0.1.0), llama.cpp \($0.1.1)" })")
        }
    }

    @Test(arguments: cases.filter { $0.fixture != nil })
    func theFileIsLlamaCpps(_ reference: Case) throws {
        let fixture = try #require(reference.fixture)
        let directory = try TemporaryDirectory()
        for type in Self.types {
            let expected = try #require(reference.outputs[type.name])
            let output = directory.path + "/\(type.name).gguf"
            try ModelQuantizer(type: type).quantize(input: FixturePaths.url(fixture).path, output: output)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
            #expect(bytes.count == expected.size, "\(type): size")
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            guard digest != expected.sha256 else { continue }
            // Which tensors differ, for the failure message.
            let file = try GGUFFile(path: output)
            let hashes = try file.tensors.map { info in
                let data = Data(try file.tensor(info).storage.bytes)
                return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined().prefix(16)
            }
            let differing = zip(reference.order, zip(hashes, expected.tensorSHA256 ?? [])).filter { $0.1.0 != $0.1.1 }.map(\.0)
            Issue.record("\(reference.name) \(type): the file differs from llama.cpp's; tensors with other data: \(differing.prefix(8))")
        }
    }
}

/// A directory under the system's temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "sparrow-quantize-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The names in the directory, hidden ones included.
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}
