//go:build !unix && !windows

package device

import "os"

// On platforms without file locks the FileStore excludes only callers in
// the same process (see FileStore).
func tryLockFile(*os.File) (bool, error) { return true, nil }

func unlockFile(*os.File) error { return nil }
