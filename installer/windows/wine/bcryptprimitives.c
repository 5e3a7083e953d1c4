/* Test equipment only, never shipped: Wine 8.0 has no bcryptprimitives.dll, whose ProcessPrng
 * Rust's std calls for random bytes (HashMap keys) at start-up, so no Rust program starts there.
 * This DLL, placed beside the .exe files in the test prefix only, gives ProcessPrng on top of
 * advapi32's RtlGenRandom (SystemFunction036), which Wine has. ProcessPrng always succeeds
 * (TRUE), as documented for Windows 10+. Built by installer/windows/wine-test.sh with mingw-w64. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
