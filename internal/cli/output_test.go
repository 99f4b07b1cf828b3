package cli

import "testing"

func TestByteSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1_017_856: "994.0 KiB",
		1_048_570: "1.0 MiB", 5 << 20: "5.0 MiB", 3e9: "2.8 GiB", 1 << 62: "4.0 EiB",
	} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
