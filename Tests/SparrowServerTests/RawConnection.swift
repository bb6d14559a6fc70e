import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bare TCP connection to the test server that sends exactly the bytes a test gives it, so that
/// tests can speak HTTP/1.0, stop half-way through a head, half-close, or read until EOF.
///
/// `@unchecked Sendable`: a test uses it from one task, one call after another; blocking calls
/// run on a Dispatch thread so as not to hold a thread of the cooperative pool.
final class RawConnection: @unchecked Sendable {
    private var fd: Int32
    private let sendTimes = NSLock()
    private var firstSent: Date?, lastSent: Date?

    /// When the first and the latest bytes went out, as the sending thread saw it: a server's
    /// timeouts count from what it receives, and a test's own task may send much later than it
    /// meant to when the other suites keep the cooperative pool busy.
    var sendTimesSeen: (first: Date?, last: Date?) { sendTimes.withLock { (firstSent, lastSent) } }

    init(port: Int) throws {
        fd = try connectToLoopback(port: port)
    }

    /// Sends all of `bytes` (blocking until the server has taken them).
    /// - Throws: when the connection fails first.
    func send(_ bytes: [UInt8]) async throws {
        try await blocking {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw TestFailure("send() failed after \(sent) bytes: errno \(errno)") }
                sent += n
                let now = Date()
                self.sendTimes.withLock {
                    if self.firstSent == nil { self.firstSent = now }
                    self.lastSent = now
                }
            }
        }
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Shuts the sending side (a half-close: the server sees end of input and can still answer).
    func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// What ``readToEnd(within:)`` got.
    struct Reading: Sendable {
        var bytes: [UInt8]
        /// The server closed the connection (EOF or reset) rather than the time running out.
        var closed: Bool
        /// When the reading thread saw the end: a test's own task may resume much later when the
        /// other suites keep the cooperative pool busy, so timing bounds use this.
        var endedAt = Date()
        /// Everything received, interim responses included.
        var received: String { String(decoding: bytes, as: UTF8.self) }

        /// The final response: what follows any interim (1xx) responses, which HTTP/1.1 clients
        /// skip (RFC 9110, section 15.2).
        var text: String { String(split().final) }

        /// The interim responses' status lines.
        var interimStatusLines: [String] { split().interim }

        private func split() -> (interim: [String], final: Substring) {
            var interim: [String] = []
            var rest = Substring(received)
            while rest.hasPrefix("HTTP/1.1 1"), let end = rest.range(of: "\r\n\r\n") {
                interim.append(String(rest[..<(rest.range(of: "\r\n")?.lowerBound ?? end.lowerBound)]))
                rest = rest[end.upperBound...]
            }
            return (interim, rest)
        }

        /// The final status line's code, when the bytes have one.
        var status: Int? {
            let line = text.prefix { $0 != "\r" && $0 != "\n" }
            let parts = line.split(separator: " ")
            return parts.count >= 2 ? Int(parts[1]) : nil
        }

        /// The final status line.
        var statusLine: String { String(text.prefix { $0 != "\r" && $0 != "\n" }) }

        /// The response's header fields, names lowercased.
        var headers: [String: String] {
            guard let end = text.range(of: "\r\n\r\n") else { return [:] }
            var fields: [String: String] = [:]
            for line in text[..<end.lowerBound].components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return fields
        }

        /// The bytes after the head.
        var body: String {
            guard let end = text.range(of: "\r\n\r\n") else { return "" }
            return String(text[end.upperBound...])
        }

        /// The body as a JSON object.
        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
                throw TestFailure("not a JSON object: \(body)")
            }
            return object
        }
    }

    /// Reads until the server closes the connection or `seconds` pass.
    func readToEnd(within seconds: Double) async throws -> Reading {
        try await blocking {
            let deadline = Date().addingTimeInterval(seconds)
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { return Reading(bytes: received, closed: false) }
                var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, Int32(min(left, 1) * 1000))
                if ready <= 0 { continue }
                let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return Reading(bytes: received, closed: true) }
                received += buffer[0..<n]
            }
        }
    }

    /// Reads one response whose body has a `Content-Length`, leaving the connection open.
    func readResponse(within seconds: Double) async throws -> Reading {
        try await blocking {
            let deadline = Date().addingTimeInterval(seconds)
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while Date() < deadline {
                let reading = Reading(bytes: received, closed: false)
                if let end = reading.text.range(of: "\r\n\r\n") {
                    // 204 and 304 have no body, whatever their headers say.
                    if reading.status == 204 || reading.status == 304 { return reading }
                    if let length = reading.headers["content-length"].flatMap(Int.init),
                       reading.text[end.upperBound...].utf8.count >= length {
                        return reading
                    }
                }
                var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 100) <= 0 { continue }
                let n = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return Reading(bytes: received, closed: true) }
                received += buffer[0..<n]
            }
            throw TestFailure("no whole response within \(seconds) s: \(String(decoding: received, as: UTF8.self).prefix(300))")
        }
    }

    func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    deinit { close() }

    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, for the raw-socket test clients.
/// - Throws: `TestFailure` naming errno when the socket cannot be made or connected.
func connectToLoopback(port: Int) throws -> Int32 {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let code = errno
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
        throw TestFailure("connect() to 127.0.0.1:\(port) failed: errno \(code)")
    }
    return fd
}
