/*
 * axfleet's emulated libaxcl_rt.so: the four functions the monitor's JNA probe calls, with the manufacturer's
 * signatures and structs (AXERA-TECH/axcl-runtime include/external/axcl.h, axcl_rt_device.h; see
 * ../shared/axera.md section 2.2), answering from an emulated card's folder (EmulatedCard). NOT the card's library.
 * Built by EmulatedCard.buildLibrary(): cc -shared -fPIC -DAXFLEET_CARD_DIR='"/path"'.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef AXFLEET_CARD_DIR
#error "AXFLEET_CARD_DIR must name the emulated card's folder"
#endif

typedef int32_t axclError;

#define AXCL_MAX_DEVICE_COUNT 256
typedef struct {
    uint32_t num;
    int32_t devices[AXCL_MAX_DEVICE_COUNT];
} axclrtDeviceList;

typedef struct {
    char swVersion[64];
    uint64_t uid;
    uint32_t pciDomain;
    uint32_t pciBusID;
    uint32_t pciDeviceID;
    int32_t temperature;
    uint32_t totalMemSize;
    uint32_t freeMemSize;
    uint32_t totalCmmSize;
    uint32_t freeCmmSize;
    uint32_t cpuLoading;
    uint32_t npuLoading;
    uint32_t reserved[32];
} axclrtDeviceProperties;

_Static_assert(sizeof(axclrtDeviceProperties) == 240, "axclrtDeviceProperties is 240 bytes");

#define ERR_DEVICE_OPEN 0x8030010b      /* runtime/device/OPEN: card not found */
#define ERR_DEVICE_NO_CONNECT 0x80300181 /* runtime/device/NO_CONNECT */
#define CMM_TOTAL_KIB 7208960u
#define MEM_TOTAL_KIB (945u * 1024u)

typedef struct {
    int present, hang, driver_loaded, reboot_cures;
    long long temp_mc, mem_used_kib, cmm_base_kib, cmm_reserved_kib, cpu, npu, resetting_until;
} card_state;

static long long now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int read_state(card_state *s) {
    char line[256];
    FILE *f = fopen(AXFLEET_CARD_DIR "/state.properties", "r");
    if (!f) {
        return -1;
    }
    memset(s, 0, sizeof(*s));
    while (fgets(line, sizeof(line), f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq) {
            continue;
        }
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(line, "present")) s->present = !strncmp(v, "true", 4);
        else if (!strcmp(line, "hang")) s->hang = !strncmp(v, "true", 4);
        else if (!strcmp(line, "driver_loaded")) s->driver_loaded = !strncmp(v, "true", 4);
        else if (!strcmp(line, "reboot_cures")) s->reboot_cures = !strncmp(v, "true", 4);
        else if (!strcmp(line, "temp_mc")) s->temp_mc = atoll(v);
        else if (!strcmp(line, "mem_used_kib")) s->mem_used_kib = atoll(v);
        else if (!strcmp(line, "cmm_base_kib")) s->cmm_base_kib = atoll(v);
        else if (!strcmp(line, "cmm_reserved_kib")) s->cmm_reserved_kib = atoll(v);
        else if (!strcmp(line, "cpu")) s->cpu = atoll(v);
        else if (!strcmp(line, "npu")) s->npu = atoll(v);
        else if (!strcmp(line, "resetting_until")) s->resetting_until = atoll(v);
    }
    fclose(f);
    return 0;
}

/* Whether the driver sees the card now; a reboot whose time is up counts as settled, as EmulatedCard settles it. */
static int visible(const card_state *s) {
    if (s->resetting_until > 0) {
        if (now_ms() < s->resetting_until) {
            return 0;
        }
        return s->driver_loaded && (s->present || s->reboot_cures);
    }
    return s->present && s->driver_loaded;
}

/* A hung card never answers: the call blocks, as the driver's does until its 50 s heartbeat timeout. */
static void block_if_hung(const card_state *s) {
    while (s->hang) {
        sleep(3600);
    }
}

/* CMM held by live users (users/<pid> files: "name\ncmm_kib\n"). */
static long long users_cmm_kib(void) {
    long long sum = 0;
    DIR *d = opendir(AXFLEET_CARD_DIR "/users");
    struct dirent *e;
    if (!d) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096], name[256];
        long long kib = 0;
        long pid = atol(e->d_name);
        if (pid <= 0 || kill((pid_t)pid, 0) != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/users/%s", AXFLEET_CARD_DIR, e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(name, sizeof(name), f) && fscanf(f, "%lld", &kib) == 1) {
            sum += kib;
        }
        if (f) {
            fclose(f);
        }
    }
    closedir(d);
    return sum;
}

axclError axclInit(const char *config) {
    card_state s;
    (void)config;
    if (read_state(&s) != 0) {
        return ERR_DEVICE_OPEN;
    }
    block_if_hung(&s);
    return visible(&s) ? 0 : ERR_DEVICE_OPEN;
}

axclError axclFinalize(void) {
    return 0;
}

axclError axclrtGetDeviceList(axclrtDeviceList *list) {
    card_state s;
    memset(list, 0, sizeof(*list));
    if (read_state(&s) != 0) {
        return ERR_DEVICE_OPEN;
    }
    block_if_hung(&s);
    if (visible(&s)) {
        list->num = 1;
        list->devices[0] = 1; /* card index 0 is device id 1 (axera.md 2.3) */
    }
    return 0;
}

axclError axclrtGetDeviceProperties(int32_t deviceId, axclrtDeviceProperties *p) {
    card_state s;
    memset(p, 0, sizeof(*p));
    if (read_state(&s) != 0) {
        return ERR_DEVICE_OPEN;
    }
    block_if_hung(&s);
    if (deviceId != 1 || !visible(&s)) {
        return ERR_DEVICE_NO_CONNECT;
    }
    long long cmm_used = s.cmm_base_kib + s.cmm_reserved_kib + users_cmm_kib();
    snprintf(p->swVersion, sizeof(p->swVersion), "V3.6.4_20250805020145 (axfleet emulated card)");
    p->uid = 0x650650650ULL;
    p->pciDomain = 1;
    p->pciBusID = 1;
    p->pciDeviceID = 0;
    p->temperature = (int32_t)s.temp_mc;
    p->totalMemSize = MEM_TOTAL_KIB;
    p->freeMemSize = (uint32_t)(MEM_TOTAL_KIB - s.mem_used_kib);
    p->totalCmmSize = CMM_TOTAL_KIB;
    p->freeCmmSize = (uint32_t)(cmm_used > CMM_TOTAL_KIB ? 0 : CMM_TOTAL_KIB - cmm_used);
    p->cpuLoading = (uint32_t)s.cpu;
    p->npuLoading = (uint32_t)s.npu;
    return 0;
}
