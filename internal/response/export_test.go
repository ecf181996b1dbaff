package response

// ChecksumText exposes the checksum's serialization to the tests.
var ChecksumText = checksumText

// IncidentKey exposes the reading of a run's trigger to the tests.
var IncidentKey = incidentKey
