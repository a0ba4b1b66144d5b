import Foundation
import Numerics

/// `manifest.json`: everything about a model version except its tensors — input, architecture,
/// head, labels and provenance. Fixed heads store only what regenerates their matrix.
public struct ModelManifest: Codable, Equatable, Sendable {
    /// The backbone: the layers that map an input to the N features the head reads.
    public struct Architecture: Codable, Equatable, Sendable {
        /// Layers applied in order; the last must produce a flat [N] feature vector.
        public var backbone: [LayerSpec]

        public init(backbone: [LayerSpec]) { self.backbone = backbone }
    }

    /// The format version this build writes and the only one it reads.
    public static let currentFormatVersion = 1

    /// The manifest format version; must equal `currentFormatVersion`.
    public var formatVersion: Int
    public var input: ModelInput
    public var architecture: Architecture
    /// The classification head: kind, N, C, α, bias, seed, Hadamard row choice.
    public var head: HeadSpec
    /// Class names, index i naming logit i; exactly `head.classes` distinct names.
    public var labels: [String]
    public var provenance: ModelProvenance

    public init(
        input: ModelInput, backbone: [LayerSpec], head: HeadSpec, labels: [String],
        provenance: ModelProvenance = ModelProvenance()
    ) {
        self.formatVersion = Self.currentFormatVersion
        self.input = input
        self.architecture = Architecture(backbone: backbone)
        self.head = head
        self.labels = labels
        self.provenance = provenance
    }

    private enum Key: String, CodingKey { case formatVersion, input, architecture, head, labels, provenance }

    /// Decodes a manifest, refusing an unknown `formatVersion` before reading anything else.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        guard formatVersion == Self.currentFormatVersion else {
            throw ModelStoreError.invalidManifest(
                field: "formatVersion",
                problem: "unknown format version \(formatVersion) (this build reads \(Self.currentFormatVersion))")
        }
        input = try c.decode(ModelInput.self, forKey: .input)
        architecture = try c.decode(Architecture.self, forKey: .architecture)
        head = try c.decode(HeadSpec.self, forKey: .head)
        labels = try c.decode([String].self, forKey: .labels)
        provenance = try c.decodeIfPresent(ModelProvenance.self, forKey: .provenance) ?? ModelProvenance()
    }

    /// Parses and validates `manifest.json` bytes.
    /// - Throws: `ModelStoreError.invalidManifest` naming the field at fault.
    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(ModelManifest.self, from: json)
        } catch let error as ModelStoreError {
            throw error
        } catch let error as DecodingError {
            throw Self.describe(error)
        } catch {
            throw ModelStoreError.invalidManifest(field: "(document)", problem: "\(error)")
        }
        try validate()
    }

    /// The manifest as pretty-printed JSON with sorted keys (stable across saves).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    private static func describe(_ error: DecodingError) -> ModelStoreError {
        func path(_ keys: [CodingKey]) -> String {
            var out = ""
            for key in keys {
                if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return out.isEmpty ? "(document)" : out
        }
        switch error {
        case let .keyNotFound(key, context):
            return .invalidManifest(field: path(context.codingPath + [key]), problem: "missing")
        case let .typeMismatch(type, context):
            return .invalidManifest(field: path(context.codingPath), problem: "expected \(type)")
        case let .valueNotFound(type, context):
            return .invalidManifest(field: path(context.codingPath), problem: "expected \(type), found null")
        case let .dataCorrupted(context):
            let detail = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            return .invalidManifest(field: path(context.codingPath), problem: detail)
        @unknown default:
            return .invalidManifest(field: "(document)", problem: "\(error)")
        }
    }
}
