// Package uboot speaks U-Boot: its legacy image format (uImage, boot.scr,
// byte-identical to mkimage), its environment images (as mkenvimage makes
// them), and a driver that types into its console without losing a
// character, sets and verifies the environment, saves it and boots.
package uboot
