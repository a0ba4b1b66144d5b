import Foundation
import Numerics

extension SafetensorsFile {
    /// The file's bytes: tensors as F32 in name order, metadata first in the header, header
    /// padded with spaces to a multiple of 8 bytes. The same contents always give the same bytes.
    public func encoded() -> Data {
        let names = tensors.keys.sorted()
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONString.literal($0)):\(JSONString.literal(metadata[$0]!))" }
            entries.append("\(JSONString.literal(Self.metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let end = offset + tensor.count * MemoryLayout<Float>.size
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(JSONString.literal(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        // The reference implementation pads so that the data section starts 8-byte aligned.
        headerBytes += [UInt8](repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for name in names {
            tensors[name]!.data.withUnsafeBufferPointer { elements in
                #if _endian(big)
                for value in elements {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
                #else
                data.append(UnsafeRawBufferPointer(elements).bindMemory(to: UInt8.self))
                #endif
            }
        }
        return data
    }

    /// Writes the file to `url` and forces it to disk (fsync) before returning.
    /// - Throws: `SafetensorsError.io` when the file cannot be created or written.
    public func write(to url: URL) throws {
        try Self.writeDurably(encoded(), to: url)
    }

    /// Creates (or truncates) `url`, writes `data` and fsyncs the file.
    static func writeDurably(_ data: Data, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw SafetensorsError.io(path: url.path, problem: "cannot create the file")
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw SafetensorsError.io(path: url.path, problem: "write failed: \(error.localizedDescription)")
        }
    }
}
