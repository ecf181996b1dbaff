package response

// ChecksumText exposes the checksum's serialization to the tests.
var ChecksumText = checksumText
