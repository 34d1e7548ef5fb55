package bootstrap

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is one file cloud-init writes on the instance.
type File struct {
	Path        string `yaml:"path"`
	Owner       string `yaml:"owner"`
	Permissions string `yaml:"permissions"`
	Encoding    string `yaml:"encoding"` // "" for text, "gz+b64" when compressed to fit
	Content     string `yaml:"content"`
}

// compressed returns the file gzip-compressed and base64-encoded, as cloud-init's gz+b64. The
// gzip header carries no name or time, so the output is deterministic.
func (f File) compressed() (File, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return f, err
	}
	if _, err := zw.Write([]byte(f.Content)); err != nil {
		return f, err
	}
	if err := zw.Close(); err != nil {
		return f, err
	}
	f.Encoding, f.Content = "gz+b64", base64.StdEncoding.EncodeToString(b.Bytes())
	return f, nil
}

// Files reads back the files a rendered cloud-config writes, decoded, so tools and tests see
// exactly what the instance will get.
func Files(userData string) ([]File, error) {
	if !strings.HasPrefix(userData, "#cloud-config\n") {
		return nil, fmt.Errorf("bootstrap: user-data is not a #cloud-config document")
	}
	var doc struct {
		WriteFiles []File `yaml:"write_files"`
	}
	if err := yaml.Unmarshal([]byte(userData), &doc); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	for i, f := range doc.WriteFiles {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path {
			return nil, fmt.Errorf("bootstrap: write_files path %q is not a clean absolute path", f.Path)
		}
		switch f.Encoding {
		case "":
		case "gz+b64":
			raw, err := base64.StdEncoding.DecodeString(f.Content)
			if err != nil {
				return nil, fmt.Errorf("bootstrap: %s: %w", f.Path, err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				return nil, fmt.Errorf("bootstrap: %s: %w", f.Path, err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				return nil, fmt.Errorf("bootstrap: %s: %w", f.Path, err)
			}
			doc.WriteFiles[i].Content, doc.WriteFiles[i].Encoding = string(plain), ""
		default:
			return nil, fmt.Errorf("bootstrap: %s: unsupported encoding %q", f.Path, f.Encoding)
		}
	}
	return doc.WriteFiles, nil
}
