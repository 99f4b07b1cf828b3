package lineage

// fnmatch reports whether name matches the shell pattern pat the way Python's
// fnmatch.fnmatchcase does, which is what dbt uses for tag, package, source and
// fqn wildcards: '*' matches any run of characters including '/', '?' one
// character, "[abc]", "[a-z]" and "[!abc]" one character of (or not of) a set.
// path.Match is not used because its '*' stops at '/' and it reports malformed
// brackets as errors where Python treats '[' literally.
func fnmatch(pat, name string) bool {
	// Iterative matcher with single-star backtracking: on a mismatch, retry from
	// the last '*' consuming one more character of name.
	px, nx := 0, 0
	starPx, starNx := -1, -1
	for px < len(pat) || nx < len(name) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if ok, width, valid := matchClass(pat[px:], name[nx]); valid {
						if ok {
							px += width
							nx++
							continue
						}
					} else if name[nx] == '[' { // unterminated: a literal '['
						px++
						nx++
						continue
					}
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 && starNx < len(name) {
			starNx++
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

// matchClass matches byte b against the bracket expression at the start of pat.
// It returns whether b is in the class, the width of the expression, and false
// in valid when there is no closing ']'.
func matchClass(pat string, b byte) (ok bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(pat) && pat[i] == '!' {
		negate = true
		i++
	}
	first := true
	for i < len(pat) {
		c := pat[i]
		if c == ']' && !first {
			return ok != negate, i + 1, true
		}
		first = false
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			if c <= b && b <= pat[i+2] {
				ok = true
			}
			i += 3
			continue
		}
		if c == b {
			ok = true
		}
		i++
	}
	return false, 0, false
}

// hasWildcard reports whether s uses any fnmatch syntax.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']':
			return true
		}
	}
	return false
}
