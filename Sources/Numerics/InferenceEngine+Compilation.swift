extension InferenceEngine {
    /// A backbone compiled into steps, with the buffer sizes they need.
    struct Compilation {
        var steps: [InferenceStep] = []
        /// N, the elements of one sample's features.
        var featureCount = 0
        /// The largest per-sample activation of any step.
        var largest = 1
        /// The largest scratch of a convolution.
        var scratch = 0
    }

    /// Compiles `network`'s backbone into channels-last steps.
    ///
    /// - Throws: `NumericsError.invalidSpec` for a layer type the engine does not know.
    static func compile(_ network: Network) throws -> Compilation {
        // Shapes per sample along the backbone; dropout is the identity in evaluation.
        var layers: [(layer: any Layer, input: [Int])] = []
        var shape = network.inputShape
        for (layer, spec) in zip(network.backbone, network.specs) {
            if !(layer is Dropout) { layers.append((layer, shape)) }
            shape = try spec.outputShape(for: shape)
        }
        var result = Compilation()
        result.featureCount = shape.reduce(1, *)
        result.largest = max(network.inputShape.reduce(1, *), result.featureCount)
        // A planar input of one channel is already channels-last; so is a plain vector.
        var channelsLast = network.inputShape.count != 3 || network.inputShape[0] == 1
        // The channels-last [C, H, W] map a following linear layer reads flattened, if any.
        var featureMap: [Int]?
        func needChannelsLast(_ input: [Int]) {
            guard !channelsLast else { return }
            result.steps.append(.toChannelsLast(channels: input[0], spatial: input[1] * input[2]))
            channelsLast = true
        }
        func fold(_ conv: Conv2d, _ bn: BatchNorm2d?, relu: Bool, pool: Bool = false, _ height: Int, _ width: Int) -> FoldedConvolution {
            let folded = FoldedConvolution(conv, batchNorm: bn, relu: relu, pool: pool, inHeight: height, inWidth: width)
            result.largest = max(result.largest, folded.outputSize)
            result.scratch = max(result.scratch, folded.scratchSize)
            return folded
        }
        func next(_ i: Int) -> (any Layer)? { i < layers.count ? layers[i].layer : nil }
        var i = 0
        while i < layers.count {
            let (layer, input) = layers[i]
            let inputSize = input.reduce(1, *)
            i += 1
            switch layer {
            case let conv as Conv2d:
                needChannelsLast(input)
                let bn = next(i) as? BatchNorm2d
                if bn != nil { i += 1 }
                let relu = next(i) is ReLU
                if relu { i += 1 }
                let g = conv.geometry(for: [1] + input)
                // A 2×2/2 max pool after a Winograd convolution is taken from its 2×2 output tiles.
                var pool = false
                if let next = next(i) as? MaxPool2d, next.kernel == 2, next.stride == 2,
                   FoldedConvolution.usesWinograd(g), g.outHeight % 2 == 0, g.outWidth % 2 == 0 {
                    pool = true
                    i += 1
                }
                let folded = fold(conv, bn, relu: relu, pool: pool, input[1], input[2])
                result.steps.append(.convolution(folded))
                featureMap = [g.outChannels, folded.outputHeight, folded.outputWidth]
            case let linear as Linear:
                let relu = next(i) is ReLU
                if relu { i += 1 }
                var weight = linear.weight.value.data
                if let map = featureMap, map[0] > 1, map[1] * map[2] > 1 {
                    weight = Self.channelsLastColumns(weight, outputs: linear.outFeatures, map: map)
                }
                featureMap = nil
                let bias = linear.bias?.value.data ?? [Float](repeating: 0, count: linear.outFeatures)
                result.steps.append(.dense(PackedWeights(weights: weight, bias: bias, outputs: linear.outFeatures,
                                                         depth: linear.inFeatures), relu: relu))
                result.largest = max(result.largest, linear.outFeatures)
            case let bn as BatchNorm2d:
                needChannelsLast(input)
                let relu = next(i) is ReLU
                if relu { i += 1 }
                var scale = [Float](repeating: 0, count: bn.channels), shift = scale
                for c in 0..<bn.channels {
                    let s = Double(bn.weight.value.data[c]) / (Double(bn.runningVariance.data[c]) + Double(bn.epsilon)).squareRoot()
                    scale[c] = Float(s)
                    shift[c] = Float(Double(bn.bias.value.data[c]) - Double(bn.runningMean.data[c]) * s)
                }
                result.steps.append(.affine(scale: scale, shift: shift, spatial: inputSize / bn.channels, relu: relu))
                featureMap = input
            case is ReLU:
                result.steps.append(.relu(count: inputSize))
            case let pool as MaxPool2d:
                needChannelsLast(input)
                result.steps.append(.maxPool(kernel: pool.kernel, stride: pool.stride, channels: input[0],
                                             height: input[1], width: input[2]))
                featureMap = [input[0], (input[1] - pool.kernel) / pool.stride + 1, (input[2] - pool.kernel) / pool.stride + 1]
            case is GlobalAveragePool:
                needChannelsLast(input)
                result.steps.append(.globalAveragePool(channels: input[0], spatial: input[1] * input[2]))
                featureMap = nil
            case is Flatten:
                // A flattened planar map (never made channels-last) is already in the linear layer's order.
                if !channelsLast { featureMap = nil }
            case let block as ResidualBlock:
                needChannelsLast(input)
                let first = fold(block.conv1, block.bn1, relu: true, input[1], input[2])
                let g = first.geometry
                let second = fold(block.conv2, block.bn2, relu: false, g.outHeight, g.outWidth)
                let projection = block.shortcut.map { fold($0.conv, $0.bn, relu: false, input[1], input[2]) }
                result.steps.append(.residual(first: first, second: second, projection: projection))
                featureMap = [second.geometry.outChannels, second.outputHeight, second.outputWidth]
            default:
                throw NumericsError.invalidSpec("the inference engine cannot compile a \(type(of: layer)) layer")
            }
        }
        // A head reading a flattened map reads it in the network's planar order.
        if let map = featureMap, map[0] > 1, map[1] * map[2] > 1 {
            result.steps.append(.toPlanar(channels: map[0], spatial: map[1] * map[2]))
        }
        return result
    }

    /// W [O, (c, h, w)] → W [O, (h, w, c)]: a linear layer's columns reordered for a flattened
    /// channels-last map [C, H, W].
    static func channelsLastColumns(_ weight: [Float], outputs: Int, map: [Int]) -> [Float] {
        let (channels, spatial) = (map[0], map[1] * map[2])
        let inputs = channels * spatial
        var reordered = weight
        for o in 0..<outputs {
            for c in 0..<channels {
                for s in 0..<spatial { reordered[o * inputs + s * channels + c] = weight[o * inputs + c * spatial + s] }
            }
        }
        return reordered
    }
}
