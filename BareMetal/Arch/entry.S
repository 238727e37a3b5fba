// Image header and first instructions. A boot loader (QEMU -kernel, U-Boot booti) enters at
// the first byte with x0 = physical address of the DTB (arm64 booting.rst).
    .section .text.boot, "ax"
    .global _start
_start:
    b       primary_entry             // code0
    .long   0                         // code1
    .quad   __text_offset             // text_offset: 0, at the 2 MiB-aligned base itself
    .quad   __image_size              // image_size: everything up to __image_end (.bss, heap, stacks)
    .quad   0xA                       // flags: little-endian (bit 0 = 0), 4 KiB pages (bits 2:1 = 1),
                                      // any 2 MiB-aligned base in RAM (bit 3 = 1)
    .quad   0, 0, 0                   // res2-4
    .ascii  "ARM\x64"                 // magic
    .long   0                         // res5

link_address:
    .quad   __link_address            // where link.ld placed _start (absolute: not relocated)

primary_entry:
    mov     x19, x0                   // DTB
    // Self-relocation, before any C or Swift code reads a pointer. The image is a PIE linked
    // at link_address; x20 = load offset = where _start runs - where it was linked. Each
    // Elf64_Rela entry {r_offset, r_info, r_addend} in .rela.dyn is an R_AARCH64_RELATIVE
    // (1027, checked by the host tool at build time): *(r_offset + offset) = r_addend + offset.
    // The MMU is off, so these are Device accesses: all 8-byte aligned. Each word written is
    // invalidated from the data cache so no stale line shadows it once the MMU and caches are on.
    adr     x20, _start
    ldr     x1, link_address
    sub     x20, x20, x1
    adrp    x2, __rela_start
    add     x2, x2, :lo12:__rela_start
    adrp    x3, __rela_end
    add     x3, x3, :lo12:__rela_end
4:  cmp     x2, x3
    b.hs    5f
    ldp     x4, x5, [x2], #16         // r_offset, r_info
    ldr     x6, [x2], #8              // r_addend
    cmp     w5, #1027                 // R_AARCH64_RELATIVE
    b.ne    halt_forever              // the build forbids others; never run half relocated
    add     x6, x6, x20
    add     x4, x4, x20
    str     x6, [x4]
    dc      ivac, x4
    b       4b
5:  dsb     sy
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

// Secondary cores started through a spin table branch to their own 8-byte entry here (the
// boot core writes entry n's address to core n's cpu-release-addr); what is in x0 then is the
// spin loop's (QEMU raspi4b: 0), so each entry supplies its core index itself.
    .global secondary_spin_entries
    .balign 8
secondary_spin_entries:
    .irp index, 0, 1, 2, 3, 4, 5, 6, 7        // Limits.cores entries
    mov     x0, #\index
    b       secondary_entry
    .endr

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
