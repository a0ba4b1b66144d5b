import Numerics

/// An ONNX graph under construction: nodes in execution order, initializers, one input and one
/// output; encodes itself as a ModelProto (onnx.proto field numbers in the comments).
struct ONNXGraph {
    enum Attribute {
        case int(String, Int)
        case float(String, Float)
        case ints(String, [Int])
    }

    struct Node {
        var op: String
        var inputs: [String]
        var output: String
        var attributes: [Attribute] = []
    }

    /// A dimension: a fixed size or a symbolic one such as the batch.
    enum Dimension {
        case value(Int)
        case parameter(String)
    }

    var name: String
    var nodes: [Node] = []
    var initializers: [(name: String, tensor: Tensor)] = []
    var input: (name: String, shape: [Dimension])
    var output: (name: String, shape: [Dimension])
    var metadata: [(key: String, value: String)] = []

    private static let floatType = 1  // TensorProto.DataType.FLOAT

    /// The ModelProto bytes.
    func encodedModel(opset: Int, irVersion: Int, producer: String, producerVersion: String) -> [UInt8] {
        var model = ProtobufWriter()
        model.int(1, irVersion)                                   // ir_version
        model.string(2, producer)                                 // producer_name
        model.string(3, producerVersion)                          // producer_version
        model.message(7) { encodeGraph(&$0) }                     // graph
        model.message(8) { $0.string(1, ""); $0.int(2, opset) }   // opset_import: default domain
        for entry in metadata {                                   // metadata_props
            model.message(14) { $0.string(1, entry.key); $0.string(2, entry.value) }
        }
        return model.bytes
    }

    private func encodeGraph(_ graph: inout ProtobufWriter) {
        for (index, node) in nodes.enumerated() {
            graph.message(1) { encodeNode(node, index: index, into: &$0) }      // node
        }
        graph.string(2, name)                                                  // name
        for initializer in initializers {
            graph.message(5) { Self.encodeTensor(initializer.name, initializer.tensor, into: &$0) }  // initializer
        }
        graph.message(11) { Self.encodeValueInfo(input.name, input.shape, into: &$0) }     // input
        graph.message(12) { Self.encodeValueInfo(output.name, output.shape, into: &$0) }   // output
    }

    private func encodeNode(_ node: Node, index: Int, into writer: inout ProtobufWriter) {
        for input in node.inputs { writer.string(1, input) }      // input
        writer.string(2, node.output)                             // output
        writer.string(3, "\(node.op.lowercased())_\(index)")      // name
        writer.string(4, node.op)                                 // op_type
        for attribute in node.attributes {                        // attribute
            writer.message(5) { a in
                switch attribute {
                case let .int(name, value):
                    a.string(1, name); a.int(20, 2); a.int(3, value)        // type INT, i
                case let .float(name, value):
                    a.string(1, name); a.int(20, 1); a.float(2, value)      // type FLOAT, f
                case let .ints(name, values):
                    a.string(1, name); a.int(20, 7); a.ints(8, values)      // type INTS, ints
                }
            }
        }
    }

    private static func encodeTensor(_ name: String, _ tensor: Tensor, into writer: inout ProtobufWriter) {
        writer.ints(1, tensor.shape)            // dims
        writer.int(2, floatType)                // data_type
        writer.string(8, name)                  // name
        var raw: [UInt8] = []
        raw.reserveCapacity(tensor.count * 4)
        for value in tensor.data {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
        }
        writer.data(9, raw)                     // raw_data, little-endian
    }

    private static func encodeValueInfo(_ name: String, _ shape: [Dimension], into writer: inout ProtobufWriter) {
        writer.string(1, name)                                     // name
        writer.message(2) { type in                                // type: TypeProto
            type.message(1) { tensorType in                        // tensor_type
                tensorType.int(1, floatType)                       // elem_type
                tensorType.message(2) { shapeProto in              // shape
                    for dimension in shape {
                        shapeProto.message(1) { d in               // dim
                            switch dimension {
                            case let .value(size): d.int(1, size)          // dim_value
                            case let .parameter(name): d.string(2, name)   // dim_param
                            }
                        }
                    }
                }
            }
        }
    }
}
