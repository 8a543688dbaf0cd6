export interface Item {
  id: number;
  name: string;
  tags: string[];
}

enum Tag {
  Fruit = "fruit",
  Green = "green",
}

const items: Item[] = [
  { id: 1, name: "apple", tags: [Tag.Fruit] },
  { id: 2, name: "lime", tags: [Tag.Fruit, Tag.Green] },
];

export function listItems(): Item[] {
  return items;
}

export function findItem(id: number): Item | undefined {
  return items.find((item) => item.id === id);
}
