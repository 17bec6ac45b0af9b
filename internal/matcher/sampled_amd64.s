//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// One sampled position, off bytes after CX: its folded 8-byte window's
// hash8 bit in table8, then its low 4 bytes' hash4 bit in table4; on a set
// bit, R11 = the position and jump to hit.
#define PROBE(off) \
	LEAQ  off(CX), R11                     \
	MOVQ  off(SI)(CX*1), R8                \
	ORQ   R13, R8                          \
	MOVQ  R8, R9                           \
	IMULQ R12, R9                          \
	SHRQ  $(64-const_gateLog), R9          \
	MOVQ  R9, R10                          \
	SHRQ  $6, R10                          \
	MOVQ  Gate_table8(AX)(R10*8), R10      \
	BTQ   R9, R10                          \
	JCS   hit                              \
	IMUL3L $-1640531535, R8, R8            \
	SHRL  $(32-const_gateLog), R8          \
	MOVL  R8, R10                          \
	SHRL  $6, R10                          \
	MOVQ  Gate_table4(AX)(R10*8), R10      \
	BTQ   R8, R10                          \
	JCS   hit

// func sampledNext(gate *Gate, text []byte, i int) (p int, ok bool)
TEXT ·sampledNext(SB), NOSPLIT, $0-49
	MOVQ gate+0(FP), AX
	MOVQ text_base+8(FP), SI
	MOVQ text_len+16(FP), DX
	MOVQ i+32(FP), CX
	SUBQ $32, DX // the last start of four positions with 8 bytes each
	MOVQ $0x2020202020202020, R13
	MOVQ $0x9E3779B97F4A7C15, R12

loop:
	CMPQ CX, DX
	JGT  done
	PROBE(0)
	PROBE(8)
	PROBE(16)
	PROBE(24)
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
