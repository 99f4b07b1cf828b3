package connection

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoTokenInFilesOrErrors drives the store through adds, a rotation and
// several failures, then greps every file in the home directory and every
// error and printed value for the token.
func TestNoTokenInFilesOrErrors(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	s := newTestStore(t, env)
	var outputs []string
	record := func(v ...any) {
		for _, x := range v {
			outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v|%s", x, x, x, x))
		}
	}

	mustAdd(t, s, testConn("a"))
	mustAdd(t, s, testConn("b"))
	record(s.Add(testConn("a"), AddOptions{})) // exists
	c, err := s.Get("a")
	record(c, *c, err)
	list, err := s.List()
	record(list, err)
	res, err := s.RotateKey(mustKey(t))
	record(res, err)
	r, err := s.Resolve("")
	record(r, err)

	// Wrong key.
	env[EnvSecretKey] = mustKey(t).Encode()
	if err := os.Rename(s.KeyPath(), s.KeyPath()+".away"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get("a")
	record(err)
	delete(env, EnvSecretKey)
	if err := os.Rename(s.KeyPath()+".away", s.KeyPath()); err != nil {
		t.Fatal(err)
	}

	// Swapped ciphertexts.
	var fd fileData
	if err := json.Unmarshal(readFile(t, s.Path()), &fd); err != nil {
		t.Fatal(err)
	}
	fd.Connections[0].Token, fd.Connections[1].Token = fd.Connections[1].Token, fd.Connections[0].Token
	if err := s.save(&fd); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get("a")
	record(err)
	_, err = s.RotateKey(mustKey(t))
	record(err)

	for _, o := range outputs {
		if strings.Contains(o, secretTail) {
			t.Errorf("token in output: %s", o)
		}
	}
	err = filepath.WalkDir(s.Dir(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if bytes.Contains(readFile(t, path), []byte(secretTail)) {
			t.Errorf("plain token in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
