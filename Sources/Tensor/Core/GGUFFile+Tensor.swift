import ModelFormats

extension GGUFFile {
    /// A zero-copy view of the tensor `name`.
    public func tensor(named name: String) throws(GGUFError) -> Tensor {
        guard let info = info(named: name) else { throw .tensorNotFound(name) }
        return try tensor(info)
    }

    /// A zero-copy view of the tensor `info` describes (an entry of ``GGUFFile/tensors``).
    public func tensor(_ info: GGUFTensorInfo) throws(GGUFError) -> Tensor {
        let storage = TensorStorage.mapped(file, offset: info.fileOffset, count: info.byteCount)
        do {
            return try Tensor(type: info.type, shape: info.shape, storage: storage)
        } catch {
            // The parser already checked type, shape and range; this cannot disagree, but stays typed.
            throw .invalidShape(tensor: info.name, dims: info.shape.dims.map { UInt64($0) })
        }
    }
}
