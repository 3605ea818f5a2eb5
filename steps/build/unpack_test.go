package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
)

// untar is the content of every file of a tar archive, or "".
func untar(data []byte) string {
	var b strings.Builder
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		b.WriteString(h.Name + "\n")
		io.Copy(&b, tr)
	}
	return b.String()
}

// gunzipAll is a gzipped tar's (or gzipped file's) content, or "".
func gunzipAll(data []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return ""
	}
	if s := untar(raw); s != "" {
		return s
	}
	return string(raw)
}
