package messaging

// CopyBatch is how many forwarded copies one transaction removes, for tests
// that cross a batch.
const CopyBatch = copyBatch
