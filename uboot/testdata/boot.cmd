setenv bootargs console=ttyAMA0
bootm 0x40008000
