package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// sessionStore is the file in which "kurir chat login" keeps sessions: one
// per server, keyed by the server's URL, and which server was used last. It
// holds bearer tokens, so it is written readable by its owner only.
type sessionStore struct {
	path string

	// Current is the server logged in to last, used when --server is not
	// given.
	Current string                   `json:"current,omitempty"`
	Servers map[string]*savedSession `json:"servers"`
}

// savedSession is one server's session.
type savedSession struct {
	Token     string    `json:"token"`
	UserID    int64     `json:"user_id"`
	Username  string    `json:"username"`
	SessionID int64     `json:"session_id"`
	SavedAt   time.Time `json:"saved_at"`
	// Names are how users this device has looked up by @name are shown:
	// their display name, else @username (an older file has usernames).
	// Others are named afresh in each run from the chats' member lists.
	Names map[int64]string `json:"names,omitempty"`
}

// openStore reads the session file that --config or the default names; a
// file that does not exist yet is an empty store.
func (c *chatCmd) openStore() (*sessionStore, error) {
	path := c.configPath
	if path == "" {
		var err error
		if path, err = defaultSessionPath(c.getenv); err != nil {
			return nil, err
		}
	}
	return loadStore(path)
}

func loadStore(path string) (*sessionStore, error) {
	s := &sessionStore{path: path, Servers: map[string]*savedSession{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read saved sessions: %w", err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("read saved sessions: %s is damaged (%v); delete it and log in again", path, err)
	}
	if s.Servers == nil {
		s.Servers = map[string]*savedSession{}
	}
	return s, nil
}

// save writes the store, replacing the file in one step so that a crash
// leaves the old or the new one, never half of either.
func (s *sessionStore) save() error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	f, err := os.CreateTemp(dir, ".session-*.json")
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove
	// CreateTemp makes the file 0600 already; say so for other platforms.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return fmt.Errorf("save session: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save session: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// defaultSessionPath is kurir/session.json in the user's configuration
// directory, found as os.UserConfigDir does but through getenv, so that
// tests and callers decide the environment.
func defaultSessionPath(getenv func(string) string) (string, error) {
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir = getenv("AppData")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			dir = filepath.Join(h, "Library", "Application Support")
		}
	default:
		dir = getenv("XDG_CONFIG_HOME")
		if !filepath.IsAbs(dir) {
			dir = ""
			if h := getenv("HOME"); h != "" {
				dir = filepath.Join(h, ".config")
			}
		}
	}
	if dir == "" {
		return "", errors.New("cannot find the configuration directory for saved sessions ($HOME is not set): give --config PATH")
	}
	return filepath.Join(dir, "kurir", "session.json"), nil
}
