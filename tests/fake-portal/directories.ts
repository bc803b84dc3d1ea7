import type { Entity, FieldDef } from "./types";

// The portal's CRM directories (crm.status.list) and deal funnels (crm.category.list), and what a portal whose
// language is Russian answers instead of English: field titles, custom field labels, list values, directory names.
// Names are data a portal stores in its own language (an admin may rename any of them), not translations made per
// request: a Russian portal answers in Russian whatever the caller's language.

export type PortalLang = "en" | "ru";

/** One crm.status.list row, with its NAME in both seed languages (crm.status.add stores the one it is given). */
export interface StatusRow {
  ID: number;
  ENTITY_ID: string;
  STATUS_ID: string;
  names: Record<PortalLang, string>;
  SORT: number;
  SYSTEM: "Y" | "N";
  CATEGORY_ID: string | null;
  COLOR: string;
  SEMANTICS: "S" | "F" | null;
}

type Seed = [entityId: string, statusId: string, en: string, ru: string, semantics?: "S" | "F"];
const SEED: Seed[] = [
  ["DEAL_STAGE", "NEW", "New", "Новая"],
  ["DEAL_STAGE", "PREPARATION", "Preparation", "Подготовка документов"],
  ["DEAL_STAGE", "WON", "Won", "Успешно", "S"],
  ["DEAL_STAGE", "LOSE", "Lost", "Провалена", "F"],
  // Funnel 1: its stages are DEAL_STAGE_1 with ids prefixed C1: (how-to-get-stages-with-semantics.md)
  ["DEAL_STAGE_1", "C1:NEW", "New", "Новая"],
  ["DEAL_STAGE_1", "C1:PREPARATION", "Negotiation", "Переговоры"],
  ["DEAL_STAGE_1", "C1:WON", "Won", "Успешно", "S"],
  ["DEAL_STAGE_1", "C1:LOSE", "Lost", "Провалена", "F"],
  ["STATUS", "NEW", "Unassigned", "Не обработан"],
  ["STATUS", "IN_PROCESS", "In progress", "В работе"],
  ["STATUS", "CONVERTED", "Good lead", "Качественный лид", "S"],
  ["STATUS", "JUNK", "Junk lead", "Некачественный лид", "F"],
  ["SOURCE", "WEB", "Website", "Веб-сайт"],
  ["SOURCE", "CALL", "Call", "Звонок"],
  ["SOURCE", "EMAIL", "E-mail", "E-mail"],
  ["INDUSTRY", "IT", "Information technology", "Информационные технологии"],
  ["INDUSTRY", "MANUFACTURING", "Manufacturing", "Производство"],
];

export function seedStatuses(): StatusRow[] {
  const sort = new Map<string, number>();
  return SEED.map(([ENTITY_ID, STATUS_ID, en, ru, semantics], i) => {
    const SORT = (sort.get(ENTITY_ID) ?? 0) + 10;
    sort.set(ENTITY_ID, SORT);
    const category = /^DEAL_STAGE_(\d+)$/.exec(ENTITY_ID)?.[1] ?? null;
    return {
      ID: 101 + i * 2,
      ENTITY_ID,
      STATUS_ID,
      names: { en, ru },
      SORT,
      SYSTEM: semantics || SORT === 10 ? "Y" : "N",
      CATEGORY_ID: category,
      COLOR: semantics === "S" ? "#7BD500" : semantics === "F" ? "#FF5752" : "#39A8EF",
      SEMANTICS: semantics ?? null,
    };
  });
}

/** Deal funnels as crm.category.list answers them for entityTypeId 2; funnel 0 is the default one. */
export const DEAL_CATEGORIES: { id: number; names: Record<PortalLang, string>; sort: number; isDefault: "Y" | "N" }[] =
  [
    { id: 0, names: { en: "General", ru: "Общая" }, sort: 100, isDefault: "Y" },
    { id: 1, names: { en: "Wholesale", ru: "Опт" }, sort: 200, isDefault: "N" },
  ];

const RU_TITLES: Record<string, string> = {
  ASSIGNED_BY_ID: "Ответственный",
  CREATED_BY_ID: "Кем создана",
  MODIFY_BY_ID: "Кем изменена",
  DATE_CREATE: "Дата создания",
  DATE_MODIFY: "Дата изменения",
  COMMENTS: "Комментарий",
  TITLE: "Название",
  "deal.STAGE_ID": "Стадия сделки",
  CATEGORY_ID: "Воронка",
  OPPORTUNITY: "Сумма",
  CURRENCY_ID: "Валюта",
  CLOSEDATE: "Предполагаемая дата закрытия",
  CONTACT_ID: "Контакт",
  COMPANY_ID: "Компания",
  NAME: "Имя",
  LAST_NAME: "Фамилия",
  POST: "Должность",
  PHONE: "Телефон",
  EMAIL: "E-mail",
  WEB: "Сайт",
  IM: "Мессенджер",
  INDUSTRY: "Сфера деятельности",
  REVENUE: "Годовой оборот",
  "lead.STATUS_ID": "Стадия",
  SOURCE_ID: "Источник",
  "company.TITLE": "Название компании",
  UF_CRM_TEXT: "Заметка",
  UF_CRM_AMOUNT: "Оценка",
  UF_CRM_BUDGET: "Бюджет",
  UF_CRM_DUE: "Срок",
  UF_CRM_MEETING: "Встреча",
  UF_CRM_VIP: "VIP",
  UF_CRM_SOURCE: "Канал лида",
  UF_CRM_TAGS: "Теги",
  UF_CRM_CONTRACT: "Договор",
  UF_CRM_PARTNER: "Компания-партнёр",
  UF_CRM_CURATOR: "Куратор",
  UF_CRM_DOCS: "Документы",
  // quotes, invoices, smart processes (crm.item.fields answers their titles in the portal's language too)
  "item.STAGE_ID": "Стадия",
  "item.CLOSEDATE": "Дата завершения",
  BEGINDATE: "Дата начала",
  CREATED_BY: "Кем создан",
  UPDATED_BY: "Кем изменён",
  CREATED_TIME: "Создан",
  UPDATED_TIME: "Изменён",
};
const RU_ITEMS: Record<string, string> = {
  "UF_CRM_SOURCE.41": "Сайт",
  "UF_CRM_SOURCE.42": "Партнёр",
  "UF_CRM_SOURCE.43": "Выставка",
};

/**
 * crm.<entity>.fields in the portal's language: standard fields' `title`, custom fields' labels (a UF_* field's
 * `title` stays its code, its labels carry the name) and enumeration values. Fields a test added keep their text.
 */
export function localFields(
  fields: Record<string, FieldDef>,
  entity: Entity | "item",
  lang: PortalLang,
): Record<string, FieldDef> {
  if (lang === "en") return fields;
  return Object.fromEntries(
    Object.entries(fields).map(([code, def]) => {
      const ru = RU_TITLES[`${entity}.${code}`] ?? RU_TITLES[code];
      if (!ru) return [code, def];
      const items = def.items?.map((i) => ({ ...i, VALUE: RU_ITEMS[`${code}.${i.ID}`] ?? i.VALUE }));
      const labels = def.isDynamic ? { listLabel: ru, formLabel: ru, filterLabel: ru } : { title: ru };
      return [code, { ...def, ...labels, ...(items ? { items } : {}) }];
    }),
  );
}
