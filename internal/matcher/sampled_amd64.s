//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// The folded 8-byte window off bytes after CX into DI, hashed (hash8)
// into R8, with R10 its table word index; R11 = the position.
#define WINDOW(off) \
	LEAQ  off(CX), R11                \
	MOVQ  off(SI)(CX*1), R8           \
	ORQ   R13, R8                     \
	MOVQ  R8, DI                      \
	IMULQ R12, R8                     \
	SHRQ  $(64-const_gateLog), R8     \
	MOVQ  R8, R10                     \
	SHRQ  $6, R10

// Jump to hit if the window's bit is set in the table at offset tab and
// its hash8b bit in the check table at offset chk; else go on at label
// next.
#define TEST(tab, chk, next) \
	MOVQ  tab(AX)(R10*8), R9          \
	BTQ   R8, R9                      \
	JCC   next                        \
	MOVQ  DI, BX                      \
	IMULQ DX, BX                      \
	SHRQ  $(64-const_gateLog), BX     \
	MOVQ  BX, R9                      \
	SHRQ  $6, R9                      \
	MOVQ  chk(AX)(R9*8), R9           \
	BTQ   BX, R9                      \
	JCS   hit                         \
next:

// func sampledNext(gate *Gate, text []byte, i int) (p int, ok bool)
TEXT ·sampledNext(SB), NOSPLIT, $0-49
	MOVQ gate+0(FP), AX
	MOVQ text_base+8(FP), SI
	MOVQ text_len+16(FP), DX
	MOVQ i+32(FP), CX
	SUBQ $const_sampledBlock, DX // the last step's start
	MOVQ DX, i+32(FP) // kept there: DX holds hash8b's multiplier
	MOVQ $0x2020202020202020, R13
	MOVQ $0x9E3779B97F4A7C15, R12
	MOVQ $0xC2B2AE3D27D4EB4F, DX // hash8b

loop:
	CMPQ CX, i+32(FP)
	JGT  done
	WINDOW(0)
	TEST(Gate_table8, Gate_check8, t1)
	TEST(Gate_tableM, Gate_checkM, t2)
	WINDOW(4)
	TEST(Gate_tableM, Gate_checkM, t3)
	WINDOW(8)
	TEST(Gate_table8, Gate_check8, t4)
	TEST(Gate_tableM, Gate_checkM, t5)
	WINDOW(12)
	TEST(Gate_tableM, Gate_checkM, t6)
	WINDOW(16)
	TEST(Gate_table8, Gate_check8, t7)
	TEST(Gate_tableM, Gate_checkM, t8)
	WINDOW(20)
	TEST(Gate_tableM, Gate_checkM, t9)
	WINDOW(24)
	TEST(Gate_table8, Gate_check8, t10)
	TEST(Gate_tableM, Gate_checkM, t11)
	WINDOW(28)
	TEST(Gate_tableM, Gate_checkM, t12)
	ADDQ $32, CX
	JMP  loop

hit:
	MOVQ R11, p+40(FP)
	MOVB $1, ok+48(FP)
	RET

done:
	MOVQ CX, p+40(FP)
	MOVB $0, ok+48(FP)
	RET
