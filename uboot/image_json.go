package uboot

import (
	"encoding/json"
	"fmt"
	"time"
)

// MarshalJSON describes the image for scripts with what `mkimage -l`
// lists, named as mkimage's flags name it: arch, os, type and
// compression in the short names -A, -O, -T and -C take, addresses in
// hex, the creation time in RFC 3339 (UTC), and for multi-file and
// script images the parts' sizes.
func (img *Image) MarshalJSON() ([]byte, error) {
	h := &img.Header
	parts := img.Parts
	if parts == nil {
		parts = []uint32{}
	}
	return json.Marshal(struct {
		Name        string   `json:"name"`
		Created     string   `json:"created"`
		Arch        string   `json:"arch"`
		OS          string   `json:"os"`
		Type        string   `json:"type"`
		Compression string   `json:"compression"`
		DataSize    uint32   `json:"data_size"`
		LoadAddress string   `json:"load_address"`
		EntryPoint  string   `json:"entry_point"`
		DataCRC     string   `json:"data_crc"`
		Parts       []uint32 `json:"parts"`
	}{
		Name: h.Name, Created: h.Time.UTC().Format(time.RFC3339),
		Arch: h.Arch.Name(), OS: h.OS.Name(), Type: h.Type.Name(), Compression: h.Comp.Name(),
		DataSize: h.Size, LoadAddress: fmt.Sprintf("0x%08x", h.Load), EntryPoint: fmt.Sprintf("0x%08x", h.Entry),
		DataCRC: fmt.Sprintf("0x%08x", h.DataCRC), Parts: parts,
	})
}
