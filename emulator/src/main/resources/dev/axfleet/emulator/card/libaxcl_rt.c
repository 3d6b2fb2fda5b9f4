/*
 * axfleet's emulated libaxcl_rt.so: the functions the monitor's JNA probe and the image worker's JNA binding call,
 * with the manufacturer's signatures and structs (AXERA-TECH/axcl-runtime include/external/axcl.h, axcl_rt_device.h,
 * axcl_rt_context.h, axcl_rt_memory.h, axcl_rt_engine.h; see ../shared/axera.md sections 2.2 and 2.3), answering
 * from an emulated card's folder (EmulatedCard). NOT the card's library.
 * Engines: an "axmodel" here is a text descriptor axfleet's tests and emulator write (EmulatedAxmodel): its IO
 * names, types and shapes, and a deterministic function of all its inputs, so that outputs depend on every input
 * (an image on its prompt and seed) the way the real engines' do, without any of their weights.
 * Built by EmulatedCard.buildLibrary(): cc -shared -fPIC -DAXFLEET_CARD_DIR='"/path"'.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
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
#define ERR_DEVICE_BUSY 0x80300106      /* runtime/device/BUSY: this emulator's answer to a second axclInit */
#define ERR_DEVICE_NO_CONNECT 0x80300181 /* runtime/device/NO_CONNECT */
#define ERR_DEVICE_NOT_ACTIVE 0x80300183 /* runtime/device/NOT_ACTIVE (axcl_rt_device.h) */
#define ERR_CONTEXT_NO_BIND 0x80300284  /* runtime/context/NO_BIND_CONTEXT (axcl_rt_context.h) */
#define CMM_TOTAL_KIB 7208960u
#define MEM_TOTAL_KIB (945u * 1024u)

typedef struct {
    int present, hang, driver_loaded, reboot_cures, execute_fail, activation_fail;
    /* Test-only faults (TestFault, CARD): never on by default; tests of axfleet doctor set them to show a check says "differs". */
    int fault_load_percent, fault_init_twice_ok, fault_usage_kib;
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
        else if (!strcmp(line, "execute_fail")) s->execute_fail = !strncmp(v, "true", 4);
        else if (!strcmp(line, "activation_fail")) s->activation_fail = !strncmp(v, "true", 4);
        else if (!strcmp(line, "test_faults")) {
            s->fault_load_percent = strstr(v, "LOAD_IN_PERCENT") != NULL;
            s->fault_init_twice_ok = strstr(v, "INIT_TWICE_OK") != NULL;
            s->fault_usage_kib = strstr(v, "USAGE_IN_KIB") != NULL;
        }
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

/* The process holds the device node while initialised, as with the driver's /dev/axcl_host (axera.md 8.4). */
static int device_fd = -1;

/*
 * axclInit once per process: axcl-docs doc_guide_axcl_api.md (axclInit, limits) says "一个进程内只调用一次本接口"
 * (call it only once per process). What the real library does on a second call is not documented; this one refuses it
 * (docs/hardware.md lists that as an assumption). A failed call does not count: the card may appear later.
 */
static int init_done;

/*
 * Devices and contexts (doc_guide_axcl_api.md axclrtSetDevice, axclrtCreateContext, axclrtResetDevice): SetDevice
 * activates the device (reference counted) and binds its default context to the calling thread; CreateContext binds a
 * new context to the calling thread, activating the device first if needed; ResetDevice to a count of 0 releases every
 * context. The real library's strings say "device {} is not actived" and "thread {} hasn't binded any context yet".
 */
static int device_ref;
static int device_gen;
static int context_tokens[64];
static int next_token;
static __thread void *bound_ctx;
static __thread int bound_gen;

static void bind_context(void *ctx) {
    bound_ctx = ctx;
    bound_gen = device_gen;
}

/* 0 when the calling thread may work on the device, else the error the call returns. */
static axclError thread_ready(void) {
    if (device_ref <= 0) {
        return ERR_DEVICE_NOT_ACTIVE;
    }
    return bound_ctx != NULL && bound_gen == device_gen ? 0 : ERR_CONTEXT_NO_BIND;
}

axclError axclInit(const char *config) {
    card_state s;
    (void)config;
    if (init_done && read_state(&s) == 0 && s.fault_init_twice_ok) {
        return 0; /* test fault INIT_TWICE_OK: a second call is harmless */
    }
    if (init_done) {
        fprintf(stderr, "axfleet emulated libaxcl_rt: axclInit called a second time in process %d; the manufacturer allows one call "
                        "per process (doc_guide_axcl_api.md)\n", (int)getpid());
        return ERR_DEVICE_BUSY;
    }
    if (read_state(&s) != 0) {
        return ERR_DEVICE_OPEN;
    }
    block_if_hung(&s);
    if (!visible(&s)) {
        return ERR_DEVICE_OPEN;
    }
    if (device_fd < 0) {
        device_fd = open(AXFLEET_CARD_DIR "/dev/axcl_host", O_RDONLY);
    }
    init_done = 1;
    return 0;
}

axclError axclFinalize(void) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/users/%d", AXFLEET_CARD_DIR, (int)getpid());
    unlink(path);
    if (device_fd >= 0) {
        close(device_fd);
        device_fd = -1;
    }
    device_ref = 0;
    device_gen++;
    return 0;
}

/* The library says what it is: callers label their output emulated from this (axcl_rt.h axclrtGetFullVersion). */
const char *axclrtGetFullVersion(void) {
    return "V3.6.4_20250805020145 axfleet EMULATED libaxcl_rt.so (not the card's library)";
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
    /* axcl-runtime sample/runtime/main.cpp activates the device (:72) and creates a context (:99) before asking (:115). */
    axclError ready = thread_ready();
    if (ready != 0) {
        return ready;
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
    /* "average cpu loading * 100%" (axcl_rt_type.h): hundredths of a percent; the sample prints cpuLoading / 100.0 as %
     * (sample/runtime/main.cpp:125-126). The card's state keeps whole percent, as axcl-smi's table shows them. */
    p->cpuLoading = (uint32_t)(s.fault_load_percent ? s.cpu : s.cpu * 100); /* test fault LOAD_IN_PERCENT: whole percent */
    p->npuLoading = (uint32_t)(s.fault_load_percent ? s.npu : s.npu * 100);
    return 0;
}

/* ---- engines (axcl_rt_engine.h) on emulated descriptors ---- */

#define ERR_NULL_POINTER 0x80300702   /* runtime/engine/NULL_POINTER */
#define ERR_ILLEGAL_PARAM 0x80300703  /* runtime/engine/ILLEGAL_PARAM */
#define ERR_NO_MEMORY 0x80300707      /* runtime/engine/NO_MEMORY */
#define ERR_OPEN 0x8030070b           /* runtime/engine/OPEN: the model file */
#define ERR_EXECUTE_FAIL 0x8030070c   /* runtime/engine/EXECUTE_FAIL */
#define ERR_INVALID_INDEX 0x80300781  /* runtime/engine/INVALID_INDEX */
#define MAX_IO 8
#define MAX_MODELS 16

typedef struct {
    int32_t dimCount;
    int32_t dims[32];
} axclrtEngineIODims;

typedef struct {
    char name[128];
    int32_t type; /* axclrtEngineDataType (axcl_rt_engine_type.h): INT8 3, UINT8 4, INT16 5, UINT16 6, INT32 7, UINT32 8,
                     FP16 13, BF16 14, FP32 15 */
    axclrtEngineIODims dims;
    uint64_t size;
} io_desc;

typedef struct {
    int used;
    char kind[64];
    int n_in, n_out;
    io_desc in[MAX_IO], out[MAX_IO];
    long long exec_ms, cmm_kib;
} model;

typedef struct {
    model *m;
    void *in[MAX_IO];
    void *out[MAX_IO];
} engine_io;

static model models[MAX_MODELS];

/* CMM held by this process's loaded engines, registered as a card user (users/<pid>) as a runtime's is. */
static long long loaded_kib(void) {
    long long sum = 0;
    for (int i = 0; i < MAX_MODELS; i++) {
        if (models[i].used) {
            sum += models[i].cmm_kib;
        }
    }
    return sum;
}

static void write_self_user(void) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/users/%d", AXFLEET_CARD_DIR, (int)getpid());
    long long kib = loaded_kib();
    if (kib == 0) {
        unlink(path);
        return;
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "libaxcl_rt (in-process engines)\n%lld\n", kib);
        fclose(f);
    }
}

static int state_ok(void) {
    card_state s;
    if (read_state(&s) != 0) {
        return 0;
    }
    block_if_hung(&s);
    return visible(&s);
}

static uint64_t elem_size(int32_t type) {
    switch (type) {
        case 3: case 4: return 1;
        case 5: case 6: case 13: case 14: return 2;
        case 7: case 8: case 15: return 4;
        default: return 0;
    }
}

static int32_t type_of(const char *name) {
    static const char *names[] = {"", "", "", "int8", "uint8", "int16", "uint16", "int32", "uint32", "", "", "", "", "fp16", "bf16",
                                  "fp32"};
    for (int32_t t = 0; t < (int32_t)(sizeof(names) / sizeof(names[0])); t++) {
        if (names[t][0] && !strcmp(name, names[t])) {
            return t;
        }
    }
    return 0;
}

/* IEEE 754 binary16 <-> float, round to nearest even (what numpy's float16 does). */
static uint16_t to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffffu;
    if (((x >> 23) & 0xff) == 0xff) {
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    }
    if (exp >= 31) {
        return (uint16_t)(sign | 0x7c00u);
    }
    if (exp <= 0) {
        if (exp < -10) {
            return (uint16_t)sign;
        }
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) {
            half++;
        }
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) {
        half++;
    }
    return (uint16_t)half;
}

static float from_fp16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        float f = (float)mant / 16777216.0f; /* 2^-24 */
        return sign ? -f : f;
    }
    x = exp == 31 ? sign | 0x7f800000u | (mant << 13) : sign | ((exp - 15 + 127) << 23) | (mant << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static uint16_t to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

static float from_bf16(uint16_t b) {
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static int parse_io(const char *v, io_desc *d) {
    char type[16] = {0}, shape[128] = {0};
    memset(d, 0, sizeof(*d));
    if (sscanf(v, "%127[^,],%15[^,],%127s", d->name, type, shape) != 3) {
        return -1;
    }
    d->type = type_of(type);
    if (d->type == 0) {
        return -1;
    }
    uint64_t n = 1;
    char *save = NULL;
    for (char *t = strtok_r(shape, "x", &save); t && d->dims.dimCount < 32; t = strtok_r(NULL, "x", &save)) {
        d->dims.dims[d->dims.dimCount++] = atoi(t);
        n *= (uint64_t)atoi(t);
    }
    d->size = n * elem_size(d->type);
    return d->size > 0 ? 0 : -1;
}

static int load_descriptor(const char *path, model *m) {
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    memset(m, 0, sizeof(*m));
    if (!fgets(line, sizeof(line), f) || strncmp(line, "# axfleet emulated axmodel", 26) != 0) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq) {
            continue;
        }
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(line, "kind")) snprintf(m->kind, sizeof(m->kind), "%s", v);
        else if (!strcmp(line, "exec_ms")) m->exec_ms = atoll(v);
        else if (!strcmp(line, "cmm_kib")) m->cmm_kib = atoll(v);
        else if (!strcmp(line, "input") && m->n_in < MAX_IO && parse_io(v, &m->in[m->n_in]) == 0) m->n_in++;
        else if (!strcmp(line, "output") && m->n_out < MAX_IO && parse_io(v, &m->out[m->n_out]) == 0) m->n_out++;
    }
    fclose(f);
    return m->n_in > 0 && m->n_out > 0 ? 0 : -1;
}

axclError axclrtSetDevice(int32_t deviceId) {
    card_state s;
    if (deviceId != 1 || !state_ok() || read_state(&s) != 0 || s.activation_fail) {
        return ERR_DEVICE_NO_CONNECT;
    }
    device_ref++;
    if (bound_ctx == NULL || bound_gen != device_gen) {
        bind_context(&context_tokens[0]); /* the device's default context */
    }
    return 0;
}

axclError axclrtResetDevice(int32_t deviceId) {
    (void)deviceId;
    if (device_ref > 0 && --device_ref == 0) {
        device_gen++; /* every context of the device is gone */
    }
    return 0;
}

axclError axclrtCreateContext(void **context, int32_t deviceId) {
    if (!context) {
        return ERR_NULL_POINTER;
    }
    if (deviceId != 1 || !state_ok()) {
        return ERR_DEVICE_NO_CONNECT;
    }
    if (device_ref <= 0) {
        device_ref = 1; /* "若指定设备设备未被激活，本接口内部将首先激活设备" */
    }
    next_token = next_token % 63 + 1;
    *context = &context_tokens[next_token];
    bind_context(*context);
    return 0;
}

axclError axclrtDestroyContext(void *context) {
    if (context != NULL && bound_ctx == context) {
        bound_ctx = NULL;
    }
    return 0;
}

axclError axclrtSetCurrentContext(void *context) {
    if (!context) {
        return ERR_NULL_POINTER;
    }
    bind_context(context);
    return thread_ready();
}

axclError axclrtEngineInit(int32_t npuKind) {
    (void)npuKind;
    if (!state_ok()) {
        return ERR_DEVICE_NO_CONNECT;
    }
    return thread_ready();
}

axclError axclrtEngineFinalize(void) {
    return 0;
}

axclError axclrtEngineGetUsage(const char *modelPath, int64_t *sysSize, int64_t *cmmSize) {
    model m;
    if (!modelPath || !sysSize || !cmmSize) {
        return ERR_NULL_POINTER;
    }
    if (load_descriptor(modelPath, &m) != 0) {
        return ERR_OPEN;
    }
    *sysSize = 0;
    card_state s;
    *cmmSize = read_state(&s) == 0 && s.fault_usage_kib ? m.cmm_kib : m.cmm_kib * 1024; /* test fault USAGE_IN_KIB */
    return 0;
}

axclError axclrtEngineLoadFromFile(const char *modelPath, uint64_t *modelId) {
    if (!modelPath || !modelId) {
        return ERR_NULL_POINTER;
    }
    if (!state_ok()) {
        return ERR_DEVICE_NO_CONNECT;
    }
    if (thread_ready() != 0) {
        return thread_ready();
    }
    for (int i = 0; i < MAX_MODELS; i++) {
        if (!models[i].used) {
            card_state s;
            if (load_descriptor(modelPath, &models[i]) != 0) {
                return ERR_OPEN;
            }
            read_state(&s);
            /* users_cmm_kib() counts this process's engines already loaded (its users/<pid> file). */
            if (s.cmm_base_kib + s.cmm_reserved_kib + users_cmm_kib() + models[i].cmm_kib > CMM_TOTAL_KIB) {
                return ERR_NO_MEMORY;
            }
            models[i].used = 1;
            write_self_user();
            *modelId = (uint64_t)i + 1;
            return 0;
        }
    }
    return ERR_NO_MEMORY;
}

static model *model_of(uint64_t id) {
    return id >= 1 && id <= MAX_MODELS && models[id - 1].used ? &models[id - 1] : NULL;
}

axclError axclrtEngineUnload(uint64_t modelId) {
    model *m = model_of(modelId);
    if (!m) {
        return ERR_ILLEGAL_PARAM;
    }
    m->used = 0;
    write_self_user();
    return 0;
}

axclError axclrtEngineCreateContext(uint64_t modelId, uint64_t *contextId) {
    if (!model_of(modelId) || !contextId) {
        return ERR_ILLEGAL_PARAM;
    }
    *contextId = modelId;
    return 0;
}

axclError axclrtEngineGetIOInfo(uint64_t modelId, void **ioInfo) {
    model *m = model_of(modelId);
    if (!m || !ioInfo) {
        return ERR_ILLEGAL_PARAM;
    }
    *ioInfo = m;
    return 0;
}

axclError axclrtEngineDestroyIOInfo(void *ioInfo) {
    (void)ioInfo;
    return 0;
}

axclError axclrtEngineGetShapeGroupsCount(void *ioInfo, int32_t *count) {
    if (!ioInfo || !count) {
        return ERR_NULL_POINTER;
    }
    *count = 1;
    return 0;
}

uint32_t axclrtEngineGetNumInputs(void *ioInfo) {
    return ioInfo ? (uint32_t)((model *)ioInfo)->n_in : 0;
}

uint32_t axclrtEngineGetNumOutputs(void *ioInfo) {
    return ioInfo ? (uint32_t)((model *)ioInfo)->n_out : 0;
}

uint64_t axclrtEngineGetInputSizeByIndex(void *ioInfo, uint32_t group, uint32_t index) {
    model *m = ioInfo;
    return m && group == 0 && index < (uint32_t)m->n_in ? m->in[index].size : 0;
}

uint64_t axclrtEngineGetOutputSizeByIndex(void *ioInfo, uint32_t group, uint32_t index) {
    model *m = ioInfo;
    return m && group == 0 && index < (uint32_t)m->n_out ? m->out[index].size : 0;
}

const char *axclrtEngineGetInputNameByIndex(void *ioInfo, uint32_t index) {
    model *m = ioInfo;
    return m && index < (uint32_t)m->n_in ? m->in[index].name : NULL;
}

const char *axclrtEngineGetOutputNameByIndex(void *ioInfo, uint32_t index) {
    model *m = ioInfo;
    return m && index < (uint32_t)m->n_out ? m->out[index].name : NULL;
}

axclError axclrtEngineGetInputDims(void *ioInfo, uint32_t group, uint32_t index, axclrtEngineIODims *dims) {
    model *m = ioInfo;
    if (!m || !dims || group != 0 || index >= (uint32_t)m->n_in) {
        return ERR_INVALID_INDEX;
    }
    *dims = m->in[index].dims;
    return 0;
}

axclError axclrtEngineGetOutputDims(void *ioInfo, uint32_t group, uint32_t index, axclrtEngineIODims *dims) {
    model *m = ioInfo;
    if (!m || !dims || group != 0 || index >= (uint32_t)m->n_out) {
        return ERR_INVALID_INDEX;
    }
    *dims = m->out[index].dims;
    return 0;
}

axclError axclrtEngineGetInputDataType(void *ioInfo, uint32_t index, int32_t *type) {
    model *m = ioInfo;
    if (!m || !type || index >= (uint32_t)m->n_in) {
        return ERR_INVALID_INDEX;
    }
    *type = m->in[index].type;
    return 0;
}

axclError axclrtEngineGetOutputDataType(void *ioInfo, uint32_t index, int32_t *type) {
    model *m = ioInfo;
    if (!m || !type || index >= (uint32_t)m->n_out) {
        return ERR_INVALID_INDEX;
    }
    *type = m->out[index].type;
    return 0;
}

axclError axclrtEngineCreateIO(void *ioInfo, void **io) {
    engine_io *e;
    if (!ioInfo || !io) {
        return ERR_NULL_POINTER;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        return ERR_NO_MEMORY;
    }
    e->m = ioInfo;
    *io = e;
    return 0;
}

axclError axclrtEngineDestroyIO(void *io) {
    free(io);
    return 0;
}

axclError axclrtEngineSetInputBufferByIndex(void *io, uint32_t index, const void *buf, uint64_t size) {
    engine_io *e = io;
    if (!e || !buf || index >= (uint32_t)e->m->n_in || size < e->m->in[index].size) {
        return ERR_ILLEGAL_PARAM;
    }
    e->in[index] = (void *)buf;
    return 0;
}

axclError axclrtEngineSetOutputBufferByIndex(void *io, uint32_t index, const void *buf, uint64_t size) {
    engine_io *e = io;
    if (!e || !buf || index >= (uint32_t)e->m->n_out || size < e->m->out[index].size) {
        return ERR_ILLEGAL_PARAM;
    }
    e->out[index] = (void *)buf;
    return 0;
}

/* Device memory is host memory here; the policy is unused on the card too (axera.md 2.2). */
axclError axclrtMalloc(void **devPtr, size_t size, int32_t policy) {
    (void)policy;
    if (!devPtr) {
        return ERR_NULL_POINTER;
    }
    if (thread_ready() != 0) {
        return thread_ready();
    }
    *devPtr = calloc(1, size);
    return *devPtr ? 0 : ERR_NO_MEMORY;
}

axclError axclrtFree(void *devPtr) {
    free(devPtr);
    return 0;
}

axclError axclrtMallocHost(void **hostPtr, size_t size) {
    if (!hostPtr) {
        return ERR_NULL_POINTER;
    }
    *hostPtr = calloc(1, size);
    return *hostPtr ? 0 : ERR_NO_MEMORY;
}

axclError axclrtFreeHost(void *hostPtr) {
    free(hostPtr);
    return 0;
}

axclError axclrtMemcpy(void *dst, const void *src, size_t count, int32_t kind) {
    if (!dst || !src || kind < 0 || kind > 3) {
        return ERR_ILLEGAL_PARAM;
    }
    memcpy(dst, src, count);
    return 0;
}

static double input_value(const io_desc *d, const void *buf, uint64_t i) {
    switch (d->type) {
        case 3: return ((const int8_t *)buf)[i] / 127.0;
        case 4: return ((const uint8_t *)buf)[i] / 255.0;
        case 5: return ((const int16_t *)buf)[i] * 0.001;
        case 6: return ((const uint16_t *)buf)[i] * 0.001;
        case 7: return ((const int32_t *)buf)[i] * 0.001;
        case 8: return ((const uint32_t *)buf)[i] * 0.001;
        case 13: return from_fp16(((const uint16_t *)buf)[i]);
        case 14: return from_bf16(((const uint16_t *)buf)[i]);
        default: return ((const float *)buf)[i];
    }
}

/* Writes v (in [-1, 1]) as the output's type: floats as they are, integers scaled to their range. */
static void output_value(const io_desc *d, void *buf, uint64_t i, float v) {
    switch (d->type) {
        case 3: ((int8_t *)buf)[i] = (int8_t)lrintf(v * 127); break;
        case 4: ((uint8_t *)buf)[i] = (uint8_t)((v + 1) * 127.5); break;
        case 5: ((int16_t *)buf)[i] = (int16_t)lrintf(v * 1000); break;
        case 6: ((uint16_t *)buf)[i] = (uint16_t)lrintf((v + 1) * 1000); break;
        case 7: ((int32_t *)buf)[i] = (int32_t)(v * 1000); break;
        case 8: ((uint32_t *)buf)[i] = (uint32_t)lrintf((v + 1) * 1000); break;
        case 13: ((uint16_t *)buf)[i] = to_fp16(v); break;
        case 14: ((uint16_t *)buf)[i] = to_bf16(v); break;
        default: ((float *)buf)[i] = v; break;
    }
}

/* Counts engine runs in the card's folder (EmulatedCard.engineRuns()), so tests see what the card really ran. */
static void count_run(void) {
    long long runs = 0;
    FILE *f = fopen(AXFLEET_CARD_DIR "/engine_runs", "r");
    if (f) {
        if (fscanf(f, "%lld", &runs) != 1) {
            runs = 0;
        }
        fclose(f);
    }
    /* Written aside and renamed, so a reader never sees a half-written count. */
    f = fopen(AXFLEET_CARD_DIR "/engine_runs.tmp", "w");
    if (f) {
        fprintf(f, "%lld\n", runs + 1);
        fclose(f);
        rename(AXFLEET_CARD_DIR "/engine_runs.tmp", AXFLEET_CARD_DIR "/engine_runs");
    }
}

/*
 * Every output element mixes, from each input, the element at the same relative position and one at a hashed
 * position, so outputs follow the spatial layout of image-like inputs and still depend on every input.
 */
axclError axclrtEngineExecute(uint64_t modelId, uint64_t contextId, uint32_t group, void *io) {
    model *m = model_of(modelId);
    engine_io *e = io;
    card_state s;
    (void)contextId;
    if (!m || !e || group != 0 || e->m != m) {
        return ERR_ILLEGAL_PARAM;
    }
    if (read_state(&s) != 0) {
        return ERR_DEVICE_OPEN;
    }
    block_if_hung(&s);
    if (!visible(&s)) {
        return ERR_DEVICE_NO_CONNECT;
    }
    if (s.execute_fail) {
        return ERR_EXECUTE_FAIL;
    }
    for (int k = 0; k < m->n_in; k++) {
        if (!e->in[k]) {
            return ERR_ILLEGAL_PARAM;
        }
    }
    for (int o = 0; o < m->n_out; o++) {
        if (!e->out[o]) {
            return ERR_ILLEGAL_PARAM;
        }
        uint64_t n = m->out[o].size / elem_size(m->out[o].type);
        for (uint64_t i = 0; i < n; i++) {
            double acc = 0;
            for (int k = 0; k < m->n_in; k++) {
                uint64_t nk = m->in[k].size / elem_size(m->in[k].type);
                uint64_t same = (uint64_t)((double)i / n * nk);
                uint64_t hashed = (i * 2654435761u + (uint64_t)k * 97 + (uint64_t)o) % nk;
                acc += 0.8 * input_value(&m->in[k], e->in[k], same) + 0.4 * input_value(&m->in[k], e->in[k], hashed);
            }
            output_value(&m->out[o], e->out[o], i, (float)tanh(acc));
        }
    }
    const char *scale = getenv("AXFLEET_EMULATOR_TIME_SCALE");
    double ms = m->exec_ms * (scale ? atof(scale) : 1.0);
    if (ms > 0) {
        usleep((useconds_t)(ms * 1000));
    }
    count_run();
    return 0;
}
