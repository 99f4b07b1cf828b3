package connection

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvHome overrides the dbtlink home directory.
const EnvHome = "DBTLINK_HOME"

// DefaultHome returns the directory holding dbtlink's connections and key:
// $DBTLINK_HOME if set, else $XDG_CONFIG_HOME/dbtlink, else
// ~/.config/dbtlink. It does not create the directory.
func DefaultHome() (string, error) {
	return homeFrom(os.Getenv, os.UserHomeDir)
}

func homeFrom(getenv func(string) string, userHome func() (string, error)) (string, error) {
	if h := getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	// The XDG spec says relative paths are invalid and must be ignored.
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "dbtlink"), nil
	}
	home, err := userHome()
	if err != nil || home == "" {
		if err == nil {
			err = errors.New("empty home directory")
		}
		return "", fmt.Errorf("find the dbtlink home directory: %w; set %s to a directory for dbtlink's configuration", err, EnvHome)
	}
	return filepath.Join(home, ".config", "dbtlink"), nil
}
