// Strings by LANG (Bitrix24 passes LANG in the frame URL): Russian and English; anything else falls back to English.
const en = {
  appTitle: "Change History",
  settingsTitle: "Change History — settings",
  readOnly: "Only portal administrators can change these settings. You can see the status below.",
  denied: "This page is for portal administrators.",
  scopes: "Access (scopes)", granted: "granted", missing: "missing", required: "required", optional: "optional",
  capabilities: "Capabilities", item: "Item", status: "Status", disables: "Without it",
  bindings: "Event bindings", expected: "Expected", actual: "Actual", healthy: "healthy", broken: "missing",
  rebind: "Rebind", rebinding: "Rebinding…", rebound: "Bindings repaired",
  placements: "Placements", confirmations: "Method confirmations", rerun: "Re-run", noPending: "No method needed an administrator's confirmation.",
  offline: "Offline queue", queueLag: "Oldest unprocessed event", errors: "Errors", none: "none",
  authFailures: "Rejected requests (wrong application token)", rateLimit: "REST calls and limit hits, last hour",
  audit: "Install / update / uninstall log", when: "When", action: "Action",
  diagnostics: "Run diagnostics", diagnosing: "Running…", report: "Diagnostics report",
  backfill: "History backfill", processed: "processed",
  history: "Change history", field: "Field", who: "Who", oldValue: "Old value", newValue: "New value",
  noChanges: "No changes recorded for this record yet.", record: "Record", sessionExpired: "Your session expired. Reopen the app from Bitrix24.",
  widgetTitle: "Change history summary", recentChanges: "Recent changes",
  exportCsv: "Attach history as CSV", exported: "Attached to the timeline", revert: "Revert",
  revertConfirm: "Write the old value back to this record?",
  overwriteConfirm: "Overwrite the current value anyway?",
  recordDenied: "Your Bitrix24 access rights do not let you see this record, so its history is hidden too.",
  recordMissing: "This record no longer exists in Bitrix24.",
  configAlert: "The app's own configuration needs its operator",
  needsReauth: "Bitrix24 stopped accepting the app's access to this portal, so changes are not being recorded. Open this page as a portal administrator to reconnect it; if this message stays, reinstall the app from the Market.",
  tokensOwnerNotAdmin: "The administrator whose access the app uses is no longer an administrator, so event delivery cannot be checked or repaired. Any administrator opening this page reconnects it.",
  revertConflict: "The field has changed since: it now holds",
  recordField: "Record", created: "created", deleted: "deleted", exists: "existed",
  allFields: "All fields", allUsers: "Everyone", apply: "Apply", reset: "Reset", filters: "Filter the history",
  newest: "Newest", older: "Older", pages: "Pages", changesCount: "change|changes", reverted: "Reverted", pending: "Waiting for an administrator's confirmation",
  reconnecting: "Reconnecting to Bitrix24…",
  deniedHint: "Ask a Bitrix24 administrator to open it. The Change history tab on CRM cards works for every user.",
  overview: "Overview", bindingsHealthy: "Bindings in place", eventsLastHour: "Events processed, last hour", waitingNow: "Waiting in the queue",
  rejectedLastHour: "Rejected requests, last hour", appEvents: "App events", crmEvents: "CRM events", mode: "Mode", handler: "Handler",
  added: "Added", changed: "Changed", removed: "Deleted", work: "Work in progress", runBackfill: "Run backfill", backfillQueued: "A new backfill pass is queued",
  queue: "Event queue, last hour", waiting: "waiting", failedForGood: "failed permanently", idle: "Nothing is running.",
  restCalls: "REST calls per minute", limitHits: "Limit hits (503) per minute", eventsPerMinute: "Events processed per minute", budget: "Request budget in use",
  statusPending: "waiting for an administrator", statusDone: "confirmed", statusDenied: "denied", statusFailed: "failed", statusExpired: "expired",
  checkedAt: "Checked", portalVersion: "Version", entityNames: "deal|contact|company|lead", lastHour: "last hour",
  mergedBetween: "changed between {from} and {to}; last edited by {who}",
  productsField: "Products", productLine: "{name} × {quantity} at {price}", productQuantity: "quantity",
  productPrice: "price", productDiscount: "discount", productTax: "tax", productProduct: "product", productUnit: "unit",
  fromStageHistory: "from Bitrix24's stage history",
  coverage: "Coverage", coverageType: "CRM type", eventsReceived: "Events received", lastEvent: "Last event",
  lastSweep: "Last sweep", sweepOnly: "Found only by sweeps", deadLettered: "Dead-lettered",
  coverageHint: "A change found only by a sweep is an edit whose event Bitrix24 never delivered. Dead-lettered "
    + "events arrived but failed every retry: Replay puts them back in the queue once.",
  sweepOnlyPerDay: "Changes found only by sweeps per day, last 14 days",
  replay: "Replay", replaying: "Replaying…", replayed: "Back in the queue",
  yes: "Yes", no: "No", file: "File", typeNames: "Deal|Contact|Company|Lead|Quote|Invoice|Smart process",
  exportDenied: "Bitrix24 does not let you change this record, so the history cannot be attached to it",
  settings: "Settings", retention: "Keep change history", retentionForever: "forever",
  retentionYears: "year|years", reconcileEvery: "Check for missed events every (minutes, 0 = off)", save: "Save",
  saving: "Saving…", saved: "Saved", retentionHint: "Older changes are deleted hourly, a small batch at a time.",
  apiTokens: "API tokens", apiTokenName: "Token name (e.g. the tool that uses it)", createToken: "Create token",
  creatingToken: "Creating…", tokenShownOnce: "Copy this token now — it is not shown again:", noTokens: "No API tokens.",
  lastUsed: "last used", neverUsed: "never", revokeToken: "Revoke", revokeTokenConfirm: "Revoke this token?",
  apiHint: "Read this portal's changes from BI tools and scripts: GET /api/v1/changes with Authorization: Bearer <token>.",
  periodFrom: "From", periodTo: "To", source: "Source", allSources: "All sources", sourceUser: "Edits",
  sourceRevert: "Reverts", sourceReconciled: "Found by sweeps", sourceStagehistory: "Stage history",
  revertTitle: "Revert this change?", cancel: "Cancel", revertDone: "Reverted: the old value is back in Bitrix24.",
  revertEntry: "revert", updating: "Updating… an edit saved moments ago is being recorded.",
  fullHistory: "Full history",
};
export type Dict = typeof en;
const ru: Dict = {
  appTitle: "История изменений",
  settingsTitle: "История изменений — настройки",
  readOnly: "Изменять настройки могут только администраторы портала. Ниже показано текущее состояние.",
  denied: "Эта страница доступна только администраторам портала.",
  scopes: "Доступ (scope)", granted: "выдан", missing: "нет", required: "обязательный", optional: "необязательный",
  capabilities: "Возможности", item: "Элемент", status: "Статус", disables: "Без него",
  bindings: "Подписки на события", expected: "Ожидается", actual: "Фактически", healthy: "в порядке", broken: "нет подписки",
  rebind: "Переподписать", rebinding: "Переподписываем…", rebound: "Подписки восстановлены",
  placements: "Встройки", confirmations: "Подтверждения методов", rerun: "Повторить", noPending: "Подтверждение администратора не требовалось.",
  offline: "Офлайн-очередь", queueLag: "Самое старое необработанное событие", errors: "Ошибки", none: "нет",
  authFailures: "Отклонённые запросы (неверный application_token)", rateLimit: "Вызовы REST и превышения лимитов за час",
  audit: "Журнал установки / обновления / удаления", when: "Когда", action: "Действие",
  diagnostics: "Запустить диагностику", diagnosing: "Проверяем…", report: "Отчёт диагностики",
  backfill: "Загрузка истории", processed: "обработано",
  history: "История изменений", field: "Поле", who: "Кто", oldValue: "Было", newValue: "Стало",
  noChanges: "Изменений этой записи пока нет.", record: "Запись", sessionExpired: "Сессия истекла. Откройте приложение из Битрикс24 заново.",
  widgetTitle: "Сводка изменений", recentChanges: "Последние изменения",
  exportCsv: "Прикрепить историю в CSV", exported: "Прикреплено к таймлайну", revert: "Вернуть",
  revertConfirm: "Вернуть прежнее значение в запись?",
  overwriteConfirm: "Всё равно перезаписать текущее значение?",
  recordDenied: "Ваши права в Битрикс24 не позволяют видеть эту запись, поэтому скрыта и её история.",
  recordMissing: "Этой записи в Битрикс24 больше нет.",
  configAlert: "Настройки самого приложения требуют внимания его оператора",
  needsReauth: "Битрикс24 перестал принимать доступ приложения к этому порталу, изменения не записываются. Откройте эту страницу как администратор портала, чтобы восстановить доступ; если сообщение не исчезнет, переустановите приложение из Маркета.",
  tokensOwnerNotAdmin: "Администратор, чей доступ использует приложение, больше не администратор: доставку событий нельзя проверить и восстановить. Любой администратор, открывший эту страницу, восстановит доступ.",
  revertConflict: "Поле с тех пор изменилось: сейчас в нём",
  recordField: "Запись", created: "создана", deleted: "удалена", exists: "существовала",
  allFields: "Все поля", allUsers: "Все сотрудники", apply: "Применить", reset: "Сбросить", filters: "Фильтр истории",
  newest: "Новые", older: "Старее", pages: "Страницы", changesCount: "изменение|изменения|изменений", reverted: "Возвращено", pending: "Ждёт подтверждения администратора",
  reconnecting: "Подключаемся к Битрикс24…",
  deniedHint: "Попросите администратора Битрикс24 открыть её. Вкладка «История изменений» в карточках CRM доступна всем.",
  overview: "Обзор", bindingsHealthy: "Подписки на месте", eventsLastHour: "Событий обработано за час", waitingNow: "Ждут в очереди",
  rejectedLastHour: "Отклонённых запросов за час", appEvents: "События приложения", crmEvents: "События CRM", mode: "Режим", handler: "Обработчик",
  added: "Создание", changed: "Изменение", removed: "Удаление", work: "Фоновые задачи", runBackfill: "Загрузить заново", backfillQueued: "Новая загрузка поставлена в очередь",
  queue: "Очередь событий за час", waiting: "ждут", failedForGood: "не обработаны", idle: "Ничего не выполняется.",
  restCalls: "Вызовов REST в минуту", limitHits: "Превышений лимита (503) в минуту", eventsPerMinute: "Событий обработано в минуту", budget: "Занято из бюджета запросов",
  statusPending: "ждёт администратора", statusDone: "подтверждён", statusDenied: "отклонён", statusFailed: "ошибка", statusExpired: "истёк",
  checkedAt: "Проверено", portalVersion: "Версия", entityNames: "сделка|контакт|компания|лид", lastHour: "за час",
  mergedBetween: "изменено между {from} и {to}; последнее изменение: {who}",
  productsField: "Товары", productLine: "{name} × {quantity} по {price}", productQuantity: "количество",
  productPrice: "цена", productDiscount: "скидка", productTax: "налог", productProduct: "товар",
  productUnit: "ед. изм.",
  fromStageHistory: "из истории стадий Битрикс24",
  coverage: "Полнота истории", coverageType: "Тип CRM", eventsReceived: "Получено событий",
  lastEvent: "Последнее событие", lastSweep: "Последняя сверка", sweepOnly: "Найдено только сверкой",
  deadLettered: "Не обработано",
  coverageHint: "Изменение, найденное только сверкой, — это правка, событие о которой Битрикс24 так и не доставил. "
    + "Необработанные события пришли, но не прошли ни одну попытку: «Повторить» один раз вернёт их в очередь.",
  sweepOnlyPerDay: "Изменений, найденных только сверкой, по дням за 14 дней",
  replay: "Повторить", replaying: "Повторяем…", replayed: "Возвращено в очередь",
  yes: "Да", no: "Нет", file: "Файл", typeNames: "Сделка|Контакт|Компания|Лид|Предложение|Счёт|Смарт-процесс",
  exportDenied: "Битрикс24 не разрешает вам изменять эту запись, поэтому историю нельзя к ней прикрепить",
  settings: "Настройки", retention: "Хранить историю изменений", retentionForever: "всегда",
  retentionYears: "год|года|лет", reconcileEvery: "Проверять пропущенные события каждые (минут, 0 — выкл.)",
  save: "Сохранить", saving: "Сохраняем…", saved: "Сохранено",
  retentionHint: "Более старые изменения удаляются раз в час, небольшими порциями.",
  apiTokens: "Токены API", apiTokenName: "Название токена (например, программа, которая им пользуется)",
  createToken: "Создать токен", creatingToken: "Создаём…", tokenShownOnce: "Скопируйте токен сейчас — больше он не будет показан:",
  noTokens: "Токенов API нет.", lastUsed: "последнее использование", neverUsed: "не использовался", revokeToken: "Отозвать",
  revokeTokenConfirm: "Отозвать этот токен?",
  apiHint: "Изменения портала для BI и скриптов: GET /api/v1/changes с заголовком Authorization: Bearer <токен>.",
  periodFrom: "С", periodTo: "По", source: "Источник", allSources: "Все источники", sourceUser: "Правки",
  sourceRevert: "Возвраты", sourceReconciled: "Найдено сверкой", sourceStagehistory: "История стадий",
  revertTitle: "Вернуть это изменение?", cancel: "Отмена", revertDone: "Возвращено: прежнее значение снова в Битрикс24.",
  revertEntry: "возврат", updating: "Обновляется… только что сохранённая правка записывается.",
  fullHistory: "Вся история",
};

export const DICTS: Record<string, Dict> = { en, ru };
export function dict(lang: string | undefined | null): Dict {
  return DICTS[(lang ?? "en").slice(0, 2).toLowerCase()] ?? en;
}

/** Plural forms, "|"-separated in CLDR category order: English one|other, Russian one|few|many ("1 change"). */
const PLURAL_ORDER: Record<string, Intl.LDMLPluralRule[]> = { en: ["one", "other"], ru: ["one", "few", "many"] };
export function plural(lang: string, n: number, forms: string): string {
  const list = forms.split("|");
  const code = PLURAL_ORDER[lang] ? lang : "en";
  const i = PLURAL_ORDER[code]!.indexOf(new Intl.PluralRules(code).select(n));
  return list[i >= 0 ? i : list.length - 1]!;
}

/** The CRM entity types by their names in this language (`entityNames`): deal, contact, company, lead. */
export function entityLabels(t: Dict): Record<string, string> {
  const names = t.entityNames.split("|");
  return Object.fromEntries(["deal", "contact", "company", "lead"].map((e, i) => [e, names[i] ?? e]));
}

/** A CRM type's name in this language (`typeNames`); a smart process goes by its own title when it is known. */
export function typeName(t: Dict, key: string, smartProcessTitle?: string): string {
  const order = ["deal", "contact", "company", "lead", "quote", "smart_invoice"];
  const names = t.typeNames.split("|");
  const i = order.indexOf(key);
  return i >= 0 ? names[i]! : smartProcessTitle || names[6]!;
}
