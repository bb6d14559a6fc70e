import ModelFormats

extension SafetensorsFile {
    /// The tensor `name` as a zero-copy ``Tensor`` (storage `.mapped`).
    ///
    /// - Throws: `SafetensorsError.tensorNotFound`, or `SafetensorsError.notAFloatTensor` for a
    ///   passed-through dtype (integers, BOOL, F64, F8, C64), which `ElementType` cannot represent.
    public func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        let info = try require(name)
        guard let type = info.dtype.elementType else {
            throw .notAFloatTensor(file: path, tensor: name, dtype: info.dtype)
        }
        do throws(TensorError) {
            return try Tensor(type: type, shape: info.shape, storage: storage(info))
        } catch {
            throw .tensorRejected(file: path, tensor: name, reason: error.description)
        }
    }

    /// The stored bytes of tensor `name`, whatever its dtype, as a `.mapped` storage that keeps
    /// the file mapped for as long as it is held.
    public func rawStorage(_ name: String) throws(SafetensorsError) -> TensorStorage {
        try storage(require(name))
    }

    private func storage(_ info: SafetensorsTensorInfo) -> TensorStorage {
        .mapped(mappedFile, offset: info.fileRange.lowerBound, count: info.byteCount)
    }
}

extension SafetensorsCheckpoint {
    /// The tensor `name` as a zero-copy ``Tensor``; see `SafetensorsFile.tensor(_:)`.
    public func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        try require(name).tensor(name)
    }

    /// The stored bytes of tensor `name`; see `SafetensorsFile.rawStorage(_:)`.
    public func rawStorage(_ name: String) throws(SafetensorsError) -> TensorStorage {
        try require(name).rawStorage(name)
    }
}
