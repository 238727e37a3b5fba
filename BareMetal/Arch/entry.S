// Image header and first instructions. A boot loader (QEMU -kernel, U-Boot booti) enters at
// the first byte with x0 = physical address of the DTB (arm64 booting.rst).
    .section .text.boot, "ax"
    .global _start
_start:
    b       primary_entry             // code0
    .long   0                         // code1
    .quad   __text_offset             // text_offset: load at RAM base + this
    .quad   __image_size              // image_size, including .bss
    .quad   0xA                       // flags: little-endian, 4 KiB pages, placement anywhere
    .quad   0, 0, 0                   // res2-4
    .ascii  "ARM\x64"                 // magic
    .long   0                         // res5

primary_entry:
    mov     x19, x0                   // DTB
    // Clear .bss (16-byte aligned by the linker script) before any Swift code runs.
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  adrp    x1, __boot_stack_top
    add     x1, x1, :lo12:__boot_stack_top
    mov     sp, x1
    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    cmp     x1, #2
    b.ne    3f
    // At EL2: install the vectors now so that even a fault during boot is reported.
    adrp    x2, el2_vectors
    add     x2, x2, :lo12:el2_vectors
    msr     vbar_el2, x2
    isb
3:  mov     x0, x19
    // x1 = current exception level; Swift refuses to go on unless it is 2.
    bl      swiftvisor_main
    b       halt_forever

    .global halt_forever
halt_forever:
    msr     daifset, #0xf
1:  wfi
    b       1b

// Secondary cores, started by PSCI CPU_ON with x0 = core index: the boot core's MMU settings
// and vectors (secondary_boot_data), a stack of their own, then Swift.
    .global secondary_entry
secondary_entry:
    mov     x19, x0
    adrp    x1, secondary_boot_data
    add     x1, x1, :lo12:secondary_boot_data
    ldr     x2, [x1, #32]
    msr     vbar_el2, x2
    // HCR_EL2 first: E2H decides how TCR_EL2 and SCTLR_EL2 below are read.
    ldr     x2, [x1, #40]
    msr     hcr_el2, x2
    isb
    ldr     x2, [x1, #16]
    msr     mair_el2, x2
    ldr     x2, [x1, #8]
    msr     tcr_el2, x2
    ldr     x2, [x1, #0]
    msr     ttbr0_el2, x2
    isb
    tlbi    alle2
    dsb     nsh
    isb
    ldr     x2, [x1, #24]
    msr     sctlr_el2, x2
    isb
    add     x2, x1, #48
    ldr     x2, [x2, x19, lsl #3]
    mov     sp, x2
    mov     x0, x19
    bl      swiftvisor_secondary_main
    b       halt_forever
