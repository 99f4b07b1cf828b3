package connection

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", "(empty)"},
		{"abc", "****…(3 chars)"},
		{"fifteen-chars!!", "****…(15 chars)"},
		{"sixteen-chars!!!", "sixt****…(16 chars)"},
		{"dbtc_0123456789012345678901234567890123", "dbtc****…(39 chars)"},
		{"ééééééééééééééééé", "éééé****…(17 chars)"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"plain", testToken, testToken, ""},
		{"trailing newline", testToken + "\n", testToken, ""},
		{"crlf and spaces", "  " + testToken + "\r\n\n", testToken, ""},
		{"empty", "", "", "input is empty"},
		{"only whitespace", " \n\t\n", "", "input is empty"},
		{"two lines", testToken + "\nsecond" + secretTail, "", "2 lines"},
		{"inner space", "dbtc_abc " + secretTail, "", "spaces"},
		{"too long", strings.Repeat("a", maxTokenInput+1), "", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadToken(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secretTail) {
					t.Fatalf("error leaks input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reveal() != tt.want {
				t.Errorf("got %q", got.Reveal())
			}
		})
	}
}

// TestTokenNeverPrinted checks every common way of printing a Connection.
func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	c := Connection{Name: "prod", Host: "https://cloud.getdbt.com", AccountID: 1, Token: NewToken(testToken)}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		outs = append(outs, fmt.Sprintf(f, c), fmt.Sprintf(f, &c), fmt.Sprintf(f, c.Token))
	}
	outs = append(outs, fmt.Sprint(c), fmt.Sprintln(c.Token), c.Token.String(), c.Token.GoString())
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	var buf bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&buf, nil))
	lg.Info("x", "conn", c, "token", c.Token, "ptr", &c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "token", c.Token, "conn", c)
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, secretTail) {
			t.Errorf("token leaked in %q", o)
		}
	}
	// The masked form is there, proving the check looked at the token.
	if !strings.Contains(fmt.Sprintf("%+v", c), "dbtc****") {
		t.Errorf("%%+v does not show the masked token: %+v", c)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	t.Parallel()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	enc := k.Encode()
	for _, o := range []string{fmt.Sprintf("%v %+v %#v %s %x %d", k, k, k, k, k, k), fmt.Sprint(&k)} {
		if strings.Contains(o, enc[:12]) || strings.Contains(o, fmt.Sprintf("%x", k.b[:6])) {
			t.Errorf("key leaked in %q", o)
		}
		if !strings.Contains(o, k.ID()) {
			t.Errorf("output %q should name the key id", o)
		}
	}
}

// TestTokenMarshalJSONOddCharacters: tokens from the environment or Airflow
// are not checked for control characters, and the masked form shows the
// first four; the JSON must stay valid (Go's %q escapes are not JSON).
func TestTokenMarshalJSONOddCharacters(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"\x01\x7fab" + strings.Repeat("x", 20), "\U0010FFFFabc" + strings.Repeat("y", 20), `"\` + strings.Repeat("z", 20)} {
		c := Connection{Name: "odd", Token: NewToken(s)}
		j, err := json.Marshal(c)
		if err != nil {
			t.Errorf("json.Marshal: %v", err)
			continue
		}
		var back struct{ Token string }
		if err := json.Unmarshal(j, &back); err != nil || back.Token != c.Token.String() {
			t.Errorf("%s: decoded token %q, %v; want %q", j, back.Token, err, c.Token.String())
		}
	}
}
