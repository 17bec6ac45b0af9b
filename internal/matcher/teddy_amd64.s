//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// One fingerprint byte: load the 32 text bytes at offset off from the
// block, fold them (OR 0x20), look both nibbles up in the bucket masks
// lo and hi and AND the bucket bits into acc (Y13).
#define TEDDY_BYTE(off, lo, hi) \
	VMOVDQU off(SI)(CX*1), Y12 \
	VPOR    Y11, Y12, Y12      \
	VPSRLW  $4, Y12, Y14       \
	VPAND   Y10, Y12, Y12      \
	VPAND   Y10, Y14, Y14      \
	VPSHUFB Y12, lo, Y12       \
	VPSHUFB Y14, hi, Y14       \
	VPAND   Y12, Y13, Y13      \
	VPAND   Y14, Y13, Y13

// func teddyNext(m *teddyMasks, text []byte, i int) (p int, ok bool)
TEXT ·teddyNext(SB), NOSPLIT, $0-49
	MOVQ m+0(FP), AX
	MOVQ text_base+8(FP), SI
	MOVQ text_len+16(FP), DX
	MOVQ i+32(FP), CX
	SUBQ $const_teddyBlock, DX // the last block start: teddyBlock bytes fit

	VMOVDQU teddyMasks_lo+0(AX), Y0 // lo[0..4]
	VMOVDQU teddyMasks_lo+32(AX), Y1
	VMOVDQU teddyMasks_lo+64(AX), Y2
	VMOVDQU teddyMasks_lo+96(AX), Y3
	VMOVDQU teddyMasks_lo+128(AX), Y4
	VMOVDQU teddyMasks_hi+0(AX), Y5 // hi[0..4]
	VMOVDQU teddyMasks_hi+32(AX), Y6
	VMOVDQU teddyMasks_hi+64(AX), Y7
	VMOVDQU teddyMasks_hi+96(AX), Y8
	VMOVDQU teddyMasks_hi+128(AX), Y9
	MOVQ    $0x0f0f0f0f0f0f0f0f, BX
	MOVQ    BX, X10
	VPBROADCASTQ X10, Y10 // nibble mask
	MOVQ    $0x2020202020202020, BX
	MOVQ    BX, X11
	VPBROADCASTQ X11, Y11 // fold

loop:
	CMPQ CX, DX
	JGT  done
	VPCMPEQB Y13, Y13, Y13 // every bucket
	TEDDY_BYTE(0, Y0, Y5)
	TEDDY_BYTE(1, Y1, Y6)
	TEDDY_BYTE(2, Y2, Y7)
	TEDDY_BYTE(3, Y3, Y8)
	TEDDY_BYTE(4, Y4, Y9)
	VPTEST Y13, Y13
	JNZ    candidates
	ADDQ   $32, CX
	JMP    loop

candidates:
	VPXOR     Y14, Y14, Y14
	VPCMPEQB  Y14, Y13, Y14
	VPMOVMSKB Y14, BX
	NOTL      BX // bit k: position CX+k proposed

candidate:
	BSFL   BX, R8
	LEAQ   (CX)(R8*1), R10
	MOVL   (SI)(R10*1), R9
	ORL    $0x20202020, R9
	IMUL3L $-1640531535, R9, R9 // 0x9E3779B1, as hash4
	SHRL   $(32-const_gateLog), R9
	MOVL   R9, R11
	SHRL   $6, R11
	MOVQ   teddyMasks_table(AX)(R11*8), R12 // table word
	BTQ    R9, R12
	JCS    found
	LEAL   -1(BX), R11
	ANDL   R11, BX
	JNZ    candidate
	ADDQ   $32, CX
	JMP    loop

found:
	MOVQ R10, p+40(FP)
	MOVB $1, ok+48(FP)
	VZEROUPPER
	RET

done:
	MOVQ CX, p+40(FP)
	MOVB $0, ok+48(FP)
	VZEROUPPER
	RET
