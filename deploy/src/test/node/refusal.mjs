// What a refused call of an official client says, in one shape for both: openai's APIError has status and
// error.message (and error.code, error.last_text); ollama's ResponseError has status_code and error (a string).
export const refusal = async (call) => {
  try {
    await call();
    return { status: 200 };
  } catch (e) {
    return { status: e.status ?? e.status_code, message: (typeof e.error === 'string' ? e.error : e.error?.message) ?? e.message,
      param: e.error?.param ?? e.param, code: e.code ?? e.error?.code, lastText: e.error?.last_text };
  }
};
